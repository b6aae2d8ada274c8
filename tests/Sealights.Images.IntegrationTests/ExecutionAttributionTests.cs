using Sealights.Images.IntegrationTests.Infrastructure;
using Sealights.Images.Testing;
using Xunit.Abstractions;
using static Sealights.Images.Testing.SampleCalls;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// Attribution end to end (src/Sealights.Lambda.Agent/Delivery/README.md, "Attribution"): the
/// sample function in the coverage-ready image under the emulator, the agent delivering to the
/// stand-in backend on the host's loopback. An execution ends, the function runs new code, a new
/// execution opens: none of the gap's hits reach the new execution (nor any other). The debug
/// hits file is the ground truth of what ran and when.
/// </summary>
[Collection(CoverageCollection.Name)]
public sealed class ExecutionAttributionTests(CoverageFixture images, ITestOutputHelper output) : IDisposable
{
    private const string Bsid = "bsid-attr";

    /// <summary>Past the agent's 10 s execution cache: the next flush is decided by the answer after it.</summary>
    private static readonly TimeSpan PastTheCache = TimeSpan.FromSeconds(11);

    private readonly ScenarioScratch _scratch = new("sl-attribution-");

    private string Token => field ??= SealightsTokens.Create($"http://127.0.0.1:{_scratch.BackendPort}/api");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Hits_made_between_two_executions_reach_neither_the_new_one_nor_any_other()
    {
        var backend = await TestBackendProcess.StartAsync(_scratch.Directory, _scratch.BackendPort, Token, "exec-1", output.WriteLine);
        _scratch.Own(backend);
        await backend.StatsAsync();
        // Every invocation is flushed and sent right after its response, within a roomy budget.
        var container = await LambdaContainer.StartAsync(images.SampleImage, new Dictionary<string, string>
        {
            ["SL_TOKEN"] = Token,
            ["SL_BUILD_SESSION_ID"] = Bsid,
            ["SL_DEBUG_HITS_FILE"] = "/sl-out/hits.jsonl",
            ["SL_FLUSH_INTERVAL_SECONDS"] = "0",
            ["SL_FLUSH_BUDGET_MS"] = "5000",
        }, ["--volume", $"{_scratch.Directory}:/sl-out"]);
        _scratch.Own(container);

        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        await WaitUntilAsync(() => backend.DeliveredMethods().Contains(EchoMethod), "exec-1's footprints", container);

        await backend.SetModeAsync(new { mode = "active-execution", active = false });
        await Task.Delay(PastTheCache);
        var gapStart = DateTimeOffset.UtcNow;
        Assert.Equal(200, (await container.InvokeAsync(Quote)).StatusCode);
        var gapEnd = DateTimeOffset.UtcNow;
        await WaitUntilAsync(async () => (await container.LogsAsync()).Contains("had no active test execution are dropped"), "the gap's hits to be dropped", container);

        await backend.SetModeAsync(new { mode = "active-execution", executionId = "exec-2", testStage = "Regression Tests" });
        await Task.Delay(PastTheCache);
        Assert.Equal(200, (await container.InvokeAsync(Info)).StatusCode);
        await WaitUntilAsync(() => backend.DeliveredMethods().Any(m => m.EndsWith("|Info()", StringComparison.Ordinal)), "exec-2's footprints", container);
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        var ran = DebugHitsFile.Read(Path.Combine(_scratch.Directory, "hits.jsonl"));
        var gap = ran.Where(h => h.Value >= gapStart && h.Value <= gapEnd).Select(h => h.Key).ToHashSet();
        Assert.Contains(PriceMethod, gap);
        var records = backend.FootprintsRecords();
        var byExecution = records.GroupBy(r => (string)r["body"]!["executions"]![0]!["executionId"]!).ToDictionary(
            g => g.Key,
            g => g.SelectMany(r => r["body"]!["methods"]!.AsArray().Select(m => (string)m!)).ToHashSet());
        Assert.Equal(["exec-1", "exec-2"], byExecution.Keys.Order());
        Assert.Empty(byExecution["exec-2"].Intersect(gap));
        Assert.Empty(byExecution["exec-1"].Intersect(gap));
        Assert.Contains(EchoMethod, byExecution["exec-1"]);
        Assert.Contains(byExecution["exec-2"], m => m.EndsWith("|Info()", StringComparison.Ordinal));
        // Everything else that ran arrived: only the gap is missing.
        Assert.Equal(ran.Keys.Except(gap).Order(), backend.DeliveredMethods().Order());
        Assert.All(records.Where(r => (string?)r["headers"]!["x-sl-executionid"] == "exec-2"), r => Assert.Equal("Regression Tests", (string?)r["testStage"]));
        Assert.Contains("footprints delivery:", logs);
        Assert.Contains("without execution", logs);
        Assert.DoesNotContain(Token, logs);
    }

    private Task WaitUntilAsync(Func<bool> condition, string what, LambdaContainer container) =>
        WaitUntilAsync(() => Task.FromResult(condition()), what, container);

    private Task WaitUntilAsync(Func<Task<bool>> condition, string what, LambdaContainer container) =>
        ScenarioScratch.WaitUntilAsync(condition, what, container, output, TimeSpan.FromSeconds(15));
}
