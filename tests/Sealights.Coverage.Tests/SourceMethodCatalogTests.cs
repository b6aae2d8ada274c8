namespace Sealights.Coverage.Tests;

public class SourceMethodCatalogTests
{
    private static readonly string[] ExpectedIds =
    [
        "Fixture.Box`1+Slot|Fill(!0,Fixture.Box<!0>)",
        "Fixture.Box`1|.ctor(!0)",
        "Fixture.Box`1|Get()",
        "Fixture.Box`1|Map`1(System.Func<!0,!!0>)",
        "Fixture.Calculator|.cctor()",
        "Fixture.Calculator|.ctor(System.Int32)",
        "Fixture.Calculator|Add(System.Int32,System.Int32)",
        "Fixture.Calculator|Describe(System.Collections.Generic.List<System.String>)",
        "Fixture.Calculator|Describe(System.Int32)",
        "Fixture.Calculator|Describe(System.String)",
        "Fixture.Calculator|Echo`1(!!0)",
        "Fixture.Calculator|Shape(System.Int32[],System.Int32[,],System.Int32&,System.String&,System.Collections.Generic.Dictionary<System.String,System.Collections.Generic.List<System.Nullable<System.Int32>>>)",
        "Fixture.Calculator|Twice(System.Int32)",
        "Fixture.Calculator|get_Scale()",
        "Fixture.Calculator|set_Scale(System.Int32)",
        "Fixture.Money|.ctor(System.Decimal)",
        "Fixture.Money|op_Addition(Fixture.Money,Fixture.Money)",
        "Fixture.Money|op_Explicit(Fixture.Money):System.Double",
        "Fixture.Money|op_Implicit(Fixture.Money):System.Decimal",
        "Fixture.Outer+Inner|Depth()",
        "Fixture.Point|.ctor(System.Int32,System.Int32)",
        "Fixture.Point|Length()",
        "Fixture.Resource|.ctor()",
        "Fixture.Resource|Guarded()",
        "Fixture.Resource|Nested(System.Int32)",
        "Fixture.Resource|Nested>lambda_7_0",
        "Fixture.Resource|Nested>lambda_7_1",
        "Fixture.Resource|Pointers(System.Int32*,System.Int32&,System.String[])",
        "Fixture.Resource|System.IDisposable.Dispose()",
        "Fixture.Resource|WithAsyncLocal(System.Int32)",
        "Fixture.Resource|WithAsyncLocal>Later_6_0",
        "Fixture.Resource|get_Count()",
        "Fixture.Resource|get_Doubler()",
        "Fixture.Resource|get_Doubler>lambda_4_0",
        "Fixture.Sequences|Project>lambda_0_0",
        "Fixture.Sequences|Project`2(System.Collections.Generic.IEnumerable<!!0>,System.Func<!!0,!!1>)",
        "Fixture.Sequences|Repeat`1(!!0,System.Int32)",
        "Fixture.TextExtensions|Shout(System.String)",
        "Fixture.Workflow|.ctor()",
        "Fixture.Workflow|AsyncWithLambda(System.Int32)",
        "Fixture.Workflow|AsyncWithLambda>lambda_8_0",
        "Fixture.Workflow|ClosureLambda(System.Collections.Generic.IEnumerable<System.Int32>,System.Int32)",
        "Fixture.Workflow|ClosureLambda>lambda_4_0",
        "Fixture.Workflow|Numbers(System.Int32)",
        "Fixture.Workflow|RunAsync(System.Int32)",
        "Fixture.Workflow|StaticLambda(System.Collections.Generic.IEnumerable<System.Int32>)",
        "Fixture.Workflow|StaticLambda>lambda_3_0",
        "Fixture.Workflow|ThisLambda(System.Collections.Generic.IEnumerable<System.Int32>)",
        "Fixture.Workflow|ThisLambda>lambda_5_0",
        "Fixture.Workflow|WithLocalFunction(System.Int32)",
        "Fixture.Workflow|WithLocalFunction(System.String)",
        "Fixture.Workflow|WithLocalFunction>Square_6_0",
        "Fixture.Workflow|WithLocalFunction>Square_7_0",
    ];

    [Fact]
    public void Lists_exactly_the_source_methods_sorted_by_id()
    {
        var ids = Fixture.Catalog.Methods.Select(m => m.Identity.Id).ToArray();

        Assert.Equal(ExpectedIds.Select(Fixture.Id), ids);
    }

    [Fact]
    public void Reports_assembly_facts()
    {
        var catalog = Fixture.Catalog;

        Assert.Equal(Fixture.AssemblyName, catalog.AssemblyName);
        Assert.Equal(SymbolSource.SideBySide, catalog.Symbols);
        Assert.True(catalog.HasSymbols);
        Assert.NotEqual(Guid.Empty, catalog.Mvid);
    }

    [Theory]
    [InlineData("Fixture.Calculator|Add(System.Int32,System.Int32)", "Fixture.Calculator", "Add")]
    [InlineData("Fixture.Calculator|Twice(System.Int32)", "Fixture.Calculator", "Twice")]
    [InlineData("Fixture.Calculator|.cctor()", "Fixture.Calculator", ".cctor")]
    [InlineData("Fixture.Calculator|Echo`1(!!0)", "Fixture.Calculator", "Echo")]
    [InlineData("Fixture.Calculator|get_Scale()", "Fixture.Calculator", "get_Scale")]
    [InlineData("Fixture.Box`1|Get()", "Fixture.Box`1", "Get")]
    [InlineData("Fixture.Box`1+Slot|Fill(!0,Fixture.Box<!0>)", "Fixture.Box`1+Slot", "Fill")]
    [InlineData("Fixture.Outer+Inner|Depth()", "Fixture.Outer+Inner", "Depth")]
    [InlineData("Fixture.Money|op_Addition(Fixture.Money,Fixture.Money)", "Fixture.Money", "op_Addition")]
    [InlineData("Fixture.TextExtensions|Shout(System.String)", "Fixture.TextExtensions", "Shout")]
    [InlineData("Fixture.Point|Length()", "Fixture.Point", "Length")]
    public void Resolves_a_method_token_to_its_id(string expected, string type, string method)
    {
        Assert.True(Fixture.Catalog.TryResolve(Fixture.Token(type, method), out var identity));
        Assert.Equal(Fixture.Id(expected), identity.Id);
    }

    [Fact]
    public void Keeps_overloads_apart()
    {
        var describe = Fixture.Catalog.Methods
            .Where(m => m.Identity.Member.StartsWith("Describe(", StringComparison.Ordinal))
            .Select(m => m.Identity.Member);

        Assert.Equal(
            ["Describe(System.Collections.Generic.List<System.String>)", "Describe(System.Int32)", "Describe(System.String)"],
            describe);
    }

    [Theory]
    [InlineData("Fixture.Calculator", "get_Label")]
    [InlineData("Fixture.Calculator", "set_Label")]
    [InlineData("Fixture.Calculator", "get_Default")]
    [InlineData("Fixture.Point", "get_X")]
    [InlineData("Fixture.Point", "ToString")]
    [InlineData("Fixture.Point", "PrintMembers")]
    [InlineData("Fixture.Point", "GetHashCode")]
    [InlineData("Fixture.Point", "<Clone>$")]
    [InlineData("Fixture.Point", "Deconstruct")]
    [InlineData("Fixture.Outer", ".ctor")]
    [InlineData("Fixture.Resource", "add_Changed")]
    [InlineData("Fixture.Resource", "remove_Changed")]
    [InlineData("Fixture.Workflow+<RunAsync>d__*", "SetStateMachine")]
    [InlineData("Fixture.Workflow+<Numbers>d__*", "System.Collections.IEnumerator.Reset")]
    public void Leaves_out_compiler_generated_and_bodiless_code(string type, string method)
    {
        Assert.False(Fixture.Catalog.TryResolve(Fixture.Token(type, method), out _));
    }

    [Fact]
    public void Gives_source_lines()
    {
        var add = Fixture.Catalog.Methods.Single(m => m.Identity.Member == "Add(System.Int32,System.Int32)");
        var guarded = Fixture.Catalog.Methods.Single(m => m.Identity.Member == "Guarded()");

        // Debug builds add sequence points on the braces, Release ones do not.
        Assert.EndsWith("Calculator.cs", add.SourceFile, StringComparison.Ordinal);
        Assert.InRange(add.StartLine, 30, 31);
        Assert.InRange(add.EndLine, 31, 32);
        Assert.EndsWith("Members.cs", guarded.SourceFile, StringComparison.Ordinal);
        Assert.InRange(guarded.StartLine, 18, 21);
        Assert.InRange(guarded.EndLine, 26, 27);
    }

    [Fact]
    public void Does_not_resolve_tokens_of_other_tables()
    {
        Assert.False(Fixture.Catalog.TryResolve(0x02000002, out _));
        Assert.False(Fixture.Catalog.TryResolve(0, out _));
    }
}
