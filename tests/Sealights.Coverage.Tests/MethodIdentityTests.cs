namespace Sealights.Coverage.Tests;

public class MethodIdentityTests
{
    [Fact]
    public void Method_id_joins_assembly_type_name_and_parameters()
    {
        var identity = MethodIdentity.ForMethod("App", "Ns.Handler", "Handle", 0, ["System.String", "System.Int32[]"], "System.Void");

        Assert.Equal("App|Ns.Handler|Handle(System.String,System.Int32[])", identity.Id);
        Assert.Equal("App", identity.AssemblyName);
        Assert.Equal("Ns.Handler", identity.TypeName);
        Assert.Equal("Handle(System.String,System.Int32[])", identity.Member);
        Assert.Equal(identity.Id, identity.ToString());
    }

    [Fact]
    public void Generic_method_carries_its_arity()
    {
        Assert.Equal("A|T|Map`2(!!0,!!1)", MethodIdentity.ForMethod("A", "T", "Map", 2, ["!!0", "!!1"], "!!1").Id);
    }

    [Fact]
    public void Only_conversion_operators_carry_the_return_type()
    {
        Assert.Equal("A|T|op_Implicit(T):System.Int64", MethodIdentity.ForMethod("A", "T", "op_Implicit", 0, ["T"], "System.Int64").Id);
        Assert.Equal("A|T|op_Explicit(T):System.Int32", MethodIdentity.ForMethod("A", "T", "op_Explicit", 0, ["T"], "System.Int32").Id);
        Assert.Equal("A|T|Parse(System.String)", MethodIdentity.ForMethod("A", "T", "Parse", 0, ["System.String"], "T").Id);
    }

    [Fact]
    public void Lambdas_and_local_functions_are_named_by_container()
    {
        Assert.Equal("A|Ns.T|Run>lambda_3_1", MethodIdentity.ForLambda("A", "Ns.T", "Run", "3_1").Id);
        Assert.Equal("A|Ns.T|Run>Helper_3_0", MethodIdentity.ForLocalFunction("A", "Ns.T", "Run", "Helper", "3_0").Id);
    }

    [Fact]
    public void Parses_back_into_its_parts()
    {
        Assert.True(MethodIdentity.TryParse("App|Ns.T+Inner|M(System.Collections.Generic.List<System.String>)", out var identity));

        Assert.Equal("App", identity.AssemblyName);
        Assert.Equal("Ns.T+Inner", identity.TypeName);
        Assert.Equal("M(System.Collections.Generic.List<System.String>)", identity.Member);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("App")]
    [InlineData("App|T")]
    [InlineData("|T|M()")]
    [InlineData("App||M()")]
    [InlineData("App|T|")]
    public void Rejects_malformed_ids(string? id)
    {
        Assert.False(MethodIdentity.TryParse(id, out _));
    }

    [Fact]
    public void Equality_is_by_id()
    {
        var a = MethodIdentity.ForLambda("A", "T", "Run", "0_0");
        Assert.True(MethodIdentity.TryParse("A|T|Run>lambda_0_0", out var b));

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Theory]
    [InlineData("System.Collections.Generic.List`1", new[] { "System.String" }, "System.Collections.Generic.List<System.String>")]
    [InlineData("System.Collections.Generic.Dictionary`2", new[] { "System.String", "!0" }, "System.Collections.Generic.Dictionary<System.String,!0>")]
    [InlineData("Ns.Outer`1+Inner", new[] { "System.Int32" }, "Ns.Outer`1+Inner<System.Int32>")]
    [InlineData("Ns.Outer`1+Inner`1", new[] { "System.Int32", "System.String" }, "Ns.Outer`1+Inner`1<System.Int32,System.String>")]
    public void Generic_instances_drop_the_arity_only_when_unambiguous(string generic, string[] arguments, string expected)
    {
        Assert.Equal(expected, MethodIdentityFormat.GenericInstance(generic, arguments));
    }
}
