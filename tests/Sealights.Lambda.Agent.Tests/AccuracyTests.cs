using Sealights.Lambda.Agent.Diagnostics;
using Sealights.Lambda.Agent.MethodHits;
using Sealights.Lambda.Agent.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Tests;

/// <summary>
/// Precision and recall of the reported hits against the fixture's ground truth, for a JIT build
/// and a ReadyToRun build published without cross-method inlining. The fixture runs "all" at
/// start (mostly before the agent's first session: recovered from rundown) and "late" while
/// traced (live events); the flush happens while the process is alive, as in a warm Lambda
/// environment, then the process exits. This is first-execution mode (method events): the truth
/// is <see cref="ExpectedMethods.AllAndLate"/> (written by hand, not derived from the agent's catalog), and its one known difference, an iterator created
/// but never enumerated, reports as executed (<see cref="ExpectedMethods.FirstExecutionFalsePositives"/>);
/// the printed precision counts it against the mode.
/// </summary>
[Collection(HeavyBuilds.Name)]
public sealed class AccuracyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task JitBuild_ReportsExactlyTheCalledMethods()
    {
        await AssertExactAsync("JIT", FixtureBuilds.JitAssembly);
    }

    /// <summary>
    /// The same fixture build on the arm64 stand-in's .NET runtime (its arm64 JIT and event
    /// stream), run through QEMU, against the same collector: the same exactness as on x64.
    /// </summary>
    [Fact]
    public async Task JitBuild_OnArm64_ReportsExactlyTheCalledMethods()
    {
        await AssertExactAsync("JIT on arm64 (QEMU)", FixtureBuilds.JitAssembly, await Sealights.Images.Testing.Arm64Runtime.EnsureRootAsync());
    }

    [Fact]
    public async Task ReadyToRunBuild_ReportsExactlyTheCalledMethods()
    {
        await AssertExactAsync("R2R", await FixtureBuilds.ReadyToRunAssemblyAsync());
    }

    /// <summary>
    /// The hand-written truth names every source method of the fixture, each once: a method
    /// added to the fixture without a line in it, or a catalog that spells an id differently from
    /// the documented format, fails here (and in the accuracy tests), not on both sides alike.
    /// </summary>
    [Fact]
    public void TheHandWrittenTruth_NamesEverySourceMethodOfTheFixture()
    {
        string[] written = [.. ExpectedMethods.All, .. ExpectedMethods.Late, .. ExpectedMethods.CalledNeverEnumerated, .. ExpectedMethods.NeverExecuted];
        var catalog = Sealights.Coverage.SourceMethodCatalog.Read(FixtureBuilds.JitAssembly).Methods.Select(m => m.Identity.Id);

        Assert.Equal(written.Length, written.Distinct().Count());
        Assert.Equal(written.Select(ExpectedMethods.Id).Order(StringComparer.Ordinal), catalog.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task WithoutJitNoInline_AnAggressiveOptimizationMethodHidesItsHelper()
    {
        // Why the exec wrapper sets DOTNET_JitNoInline=1: a method jitted fully optimised at once
        // inlines a small callee, which then never runs as a method of its own.
        var assembly = FixtureBuilds.JitAssembly;
        var run = await RunAsync(assembly, noInline: false);
        var accuracy = Accuracy.Of(run.Hits, ExpectedMethods.AllAndLateFirstExecution(assembly));
        output.WriteLine("JIT without DOTNET_JitNoInline: " + accuracy);

        Assert.Equal(1.0, accuracy.Precision);
        // Both helpers called from fully optimised code are inlined: the [AggressiveOptimization]
        // method's and loop's. ForcedInline is called from tier-0 code, which inlines nothing.
        Assert.Equal(
            [ExpectedMethods.Id("Fixture.Inlining|HotHelper(System.Int32)"), ExpectedMethods.Id("Fixture.Loops|Step(System.Int32)")],
            accuracy.Missed);
    }

    private async Task AssertExactAsync(string flavor, string assembly, string? arm64Root = null)
    {
        var expected = ExpectedMethods.AllAndLate(assembly);
        var run = await RunAsync(assembly, noInline: true, arm64Root);
        var accuracy = Accuracy.Of(run.Hits, expected);
        var whileAlive = Accuracy.Of(run.WhileAlive, expected);
        var statistics = run.Statistics;

        // To the test's own output (the scope's is closed by now): the bench's P5 reads it from TRX.
        var figures =
            $"{flavor} (first-execution mode): precision {accuracy.Precision:0.00} recall {accuracy.Recall:0.00} "
            + $"({run.Hits.Count} hits of {expected.Count} executed methods; flush while alive: recall {whileAlive.Recall:0.00}); "
            + $"cold start traced: {statistics.EventsRead} events, {statistics.BytesRead / 1024.0:0} KB, "
            + $"{statistics.EventsLost} lost, {statistics.SessionsStarted} sessions";
        Console.WriteLine(figures);
        output.WriteLine(figures);
        output.WriteLine(accuracy.ToString());

        Assert.Equal(run.Hits.Count, run.Hits.Select(h => h.Method.Id).Distinct().Count());
        Assert.Equal(1.0, accuracy.Recall);
        // The mode's known difference, and nothing else: exact against what it can know.
        Assert.Equal(ExpectedMethods.FirstExecutionFalsePositives(assembly).Order(StringComparer.Ordinal), accuracy.Unexpected);
        Assert.Equal(1.0, Accuracy.Of(run.Hits, ExpectedMethods.AllAndLateFirstExecution(assembly)).Precision);
        // A long-lived process: everything it did is out at the flush, nothing waits for its exit.
        Assert.Equal(1.0, whileAlive.Recall);
        Assert.All(run.Hits, h => Assert.InRange(h.FirstSeen, run.Started.AddSeconds(-1), run.Finished));
        Assert.Equal(0, statistics.EventsLost);
    }

    private async Task<Run> RunAsync(string assembly, bool noInline, string? arm64Root = null)
    {
        var started = DateTimeOffset.UtcNow;
        var scope = await CollectorScope.StartAsync(output, assembly);
        await using (scope)
        {
            await using var fixture = FixtureProcess.Start(assembly, "all", scope.Collector.RuntimePortSetting, noInline, arm64Root: arm64Root);
            await fixture.WaitForLineAsync("ready");
            await scope.WaitForRuntimeAsync();
            await fixture.RunAsync("late");

            using var flushBudget = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var whileAlive = await scope.Collector.FlushAsync(flushBudget.Token);
            await fixture.ExitAsync();
            var rest = await scope.Collector.StopAsync(TimeSpan.FromSeconds(5));
            return new Run(scope, [.. whileAlive, .. rest], whileAlive, scope.Collector.Statistics, started, DateTimeOffset.UtcNow);
        }
    }

    private sealed record Run(
        CollectorScope Scope,
        IReadOnlyList<MethodHit> Hits,
        IReadOnlyList<MethodHit> WhileAlive,
        CollectionStatistics Statistics,
        DateTimeOffset Started,
        DateTimeOffset Finished);
}
