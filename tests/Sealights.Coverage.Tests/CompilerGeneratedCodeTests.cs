namespace Sealights.Coverage.Tests;

/// <summary>State machines count as their kickoff method; lambdas and local functions get container-based ids.</summary>
public class CompilerGeneratedCodeTests
{
    [Theory]
    [InlineData("Fixture.Workflow", "RunAsync", "Fixture.Workflow+<RunAsync>d__*", "Fixture.Workflow|RunAsync(System.Int32)")]
    [InlineData("Fixture.Workflow", "Numbers", "Fixture.Workflow+<Numbers>d__*", "Fixture.Workflow|Numbers(System.Int32)")]
    [InlineData("Fixture.Workflow", "AsyncWithLambda", "Fixture.Workflow+<AsyncWithLambda>d__*", "Fixture.Workflow|AsyncWithLambda(System.Int32)")]
    [InlineData("Fixture.Resource", "Guarded", "Fixture.Resource+<Guarded>d__*", "Fixture.Resource|Guarded()")]
    [InlineData("Fixture.Sequences", "Repeat", "Fixture.Sequences+<Repeat>d__*", "Fixture.Sequences|Repeat`1(!!0,System.Int32)")]
    public void MoveNext_resolves_to_the_kickoff_method(string type, string kickoff, string stateMachine, string expected)
    {
        var kickoffToken = Fixture.Token(type, kickoff);
        var moveNextToken = Fixture.Token(stateMachine, "MoveNext");

        Assert.True(Fixture.Catalog.TryResolve(kickoffToken, out var fromKickoff));
        Assert.True(Fixture.Catalog.TryResolve(moveNextToken, out var fromMoveNext));
        Assert.Equal(Fixture.Id(expected), fromKickoff.Id);
        Assert.Equal(Fixture.Id(expected), fromMoveNext.Id);
        var method = Fixture.Catalog.Methods.Single(m => m.Identity.Id == Fixture.Id(expected));
        Assert.Contains(kickoffToken, method.MethodTokens);
        Assert.Contains(moveNextToken, method.MethodTokens);
    }

    [Fact]
    public void Iterator_finally_helper_counts_as_the_kickoff_method()
    {
        var helper = Fixture.Token("Fixture.Resource+<Guarded>d__*", "<>m__Finally1");

        Assert.True(Fixture.Catalog.TryResolve(helper, out var identity));
        Assert.Equal(Fixture.Id("Fixture.Resource|Guarded()"), identity.Id);
    }

    [Fact]
    public void Async_local_function_state_machine_resolves_to_the_local_function()
    {
        var moveNext = Fixture.Token("Fixture.Resource+<<WithAsyncLocal>g__Later|*", "MoveNext");

        Assert.True(Fixture.Catalog.TryResolve(moveNext, out var identity));
        Assert.Equal(Fixture.Id("Fixture.Resource|WithAsyncLocal>Later_6_0"), identity.Id);
    }

    [Theory]
    [InlineData("Fixture.Workflow+<>c", "<StaticLambda>b__3_0", "Fixture.Workflow|StaticLambda>lambda_3_0")]
    [InlineData("Fixture.Workflow+<>c__DisplayClass4_0", "<ClosureLambda>b__0", "Fixture.Workflow|ClosureLambda>lambda_4_0")]
    [InlineData("Fixture.Workflow", "<ThisLambda>b__5_0", "Fixture.Workflow|ThisLambda>lambda_5_0")]
    [InlineData("Fixture.Workflow+<>c__DisplayClass8_0", "<AsyncWithLambda>b__0", "Fixture.Workflow|AsyncWithLambda>lambda_8_0")]
    [InlineData("Fixture.Resource+<>c", "<get_Doubler>b__4_0", "Fixture.Resource|get_Doubler>lambda_4_0")]
    [InlineData("Fixture.Sequences+<>c__0`2", "<Project>b__0_0", "Fixture.Sequences|Project>lambda_0_0")]
    [InlineData("Fixture.Workflow", "<WithLocalFunction>g__Square|6_0", "Fixture.Workflow|WithLocalFunction>Square_6_0")]
    [InlineData("Fixture.Workflow", "<WithLocalFunction>g__Square|7_0", "Fixture.Workflow|WithLocalFunction>Square_7_0")]
    public void Lambdas_and_local_functions_are_named_by_their_container_on_the_user_type(string type, string method, string expected)
    {
        Assert.True(Fixture.Catalog.TryResolve(Fixture.Token(type, method), out var identity));
        Assert.Equal(Fixture.Id(expected), identity.Id);
    }

    [Fact]
    public void Nested_lambdas_get_distinct_ids()
    {
        var lambdas = Fixture.Catalog.Methods
            .Where(m => m.Identity.Member.StartsWith("Nested>", StringComparison.Ordinal))
            .Select(m => m.Identity.Member);

        Assert.Equal(["Nested>lambda_7_0", "Nested>lambda_7_1"], lambdas);
    }

    [Fact]
    public void Closure_plumbing_is_not_a_source_method()
    {
        Assert.False(Fixture.Catalog.TryResolve(Fixture.Token("Fixture.Workflow+<>c__DisplayClass4_0", ".ctor"), out _));
        Assert.False(Fixture.Catalog.TryResolve(Fixture.Token("Fixture.Workflow+<>c", ".cctor"), out _));
    }
}
