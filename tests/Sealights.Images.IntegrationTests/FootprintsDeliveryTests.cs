using System.Text.Json.Nodes;
using Sealights.Images.IntegrationTests.Infrastructure;
using Sealights.Images.Testing;
using Xunit.Abstractions;
using static Sealights.Images.Testing.SampleCalls;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// Footprints end to end: the sample function in the coverage-ready image under the emulator,
/// the agent delivering to the stand-in Sealights backend (tests/Sealights.TestBackend), a real
/// process on the host's loopback. The debug hits file is the ground truth of what ran.
/// </summary>
[Collection(CoverageCollection.Name)]
public sealed class FootprintsDeliveryTests(CoverageFixture images, ITestOutputHelper output) : IDisposable
{
    private const string Bsid = "bsid-e2e";
    private const string Lab = "lab-e2e";
    private const string Execution = "execution-e2e";

    private readonly ScenarioScratch _scratch = new("sl-footprints-");

    private string Token => field ??= SealightsTokens.Create($"http://127.0.0.1:{_scratch.BackendPort}/api");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Footprints_match_the_invoked_paths_with_the_route_headers_and_invocation_times()
    {
        var backend = await StartBackendAsync();
        var container = await StartFunctionAsync(RoomyBudget);

        var beforeEcho = DateTimeOffset.UtcNow;
        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        var afterEcho = DateTimeOffset.UtcNow;
        // Flushed right after the response (Telemetry API): there before the next invocation.
        await WaitUntilAsync(() => backend.DeliveredMethods().Contains(EchoMethod), "the first invocation's footprints", container);
        var beforeQuote = DateTimeOffset.UtcNow;
        Assert.Equal(200, (await container.InvokeAsync(Quote)).StatusCode);
        var afterQuote = DateTimeOffset.UtcNow;
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Contains("flushed right after a response", logs);
        var ran = ReadHitsFile();
        var delivered = backend.DeliveredMethods();
        Assert.Equal(ran.Keys.Order(), delivered.Order());
        Assert.Contains(PriceMethod, delivered);
        Assert.DoesNotContain(delivered, m => m.Contains("|Fail()", StringComparison.Ordinal) || m.Contains("|Info()", StringComparison.Ordinal));

        var records = backend.FootprintsRecords();
        Assert.NotEmpty(records);
        foreach (var record in records)
        {
            Assert.Equal($"/api/v6/agents/{Bsid}/footprints/Functional%20Tests/{Bsid}/", (string?)record["rawTarget"]);
            var headers = record["headers"]!.AsObject();
            Assert.Equal("gzip", (string?)headers["content-encoding"]);
            Assert.Equal(Execution, (string?)headers["x-sl-executionid"]);
            Assert.Equal(Bsid, (string?)headers["x-sl-bsid"]);
            Assert.Equal(Lab, (string?)headers["x-sl-labid"]);
            // The backend accepts only this token as Bearer (401 otherwise), so acceptance shows it.
            var body = record["body"]!;
            Assert.Equal("6.0", (string?)body["formatVersion"]);
            Assert.Equal(Lab, (string?)body["meta"]!["labId"]);
            Assert.All(body["executions"]!.AsArray(), e => Assert.Equal(Execution, (string?)e!["executionId"]));
        }

        // Every hits entry's window (whole epoch seconds: start rounded down, end up) holds the
        // invocation that ran its methods (or init, before the first).
        var entries = backend.DeliveredHits();
        var echoEntry = entries.Single(e => e.Methods.Contains(EchoMethod));
        Assert.InRange(echoEntry.Start, beforeEcho.AddSeconds(-1.05), afterEcho.AddMilliseconds(50));
        Assert.InRange(echoEntry.End, beforeEcho.AddMilliseconds(-50), afterEcho.AddSeconds(1.05));
        Assert.False(echoEntry.Init);
        var quoteEntry = entries.Single(e => e.Methods.Contains(PriceMethod));
        Assert.InRange(quoteEntry.Start, beforeQuote.AddSeconds(-1.05), afterQuote.AddMilliseconds(50));
        Assert.InRange(quoteEntry.End, beforeQuote.AddMilliseconds(-50), afterQuote.AddSeconds(1.05));
        Assert.All(entries.Where(e => e.Init), e => Assert.True(e.End <= afterEcho.AddSeconds(1), "init footprints after the first invocation"));
        Assert.DoesNotContain(Token, logs);
    }

    [Fact]
    public async Task Backend_down_for_20_invocations_then_up_every_hit_arrives_once()
    {
        var backend = await StartBackendAsync();
        var container = await StartFunctionAsync(("SL_FLUSH_INTERVAL_SECONDS", "0"), RoomyBudget);
        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        await WaitUntilAsync(() => backend.DeliveredMethods().Contains(EchoMethod), "footprints while the backend is up", container);

        await backend.StopAsync();
        string[] payloads = [Quote, Info, Echo, """{"action":"fail"}""", """{"action":"wait","ms":5}"""];
        for (var i = 0; i < 20; i++)
        {
            var result = await container.InvokeAsync(payloads[i % payloads.Length], TimeSpan.FromSeconds(20));
            Assert.InRange(result.StatusCode, 200, 299);
        }
        await backend.RestartAsync();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        }
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        var ran = ReadHitsFile();
        var delivered = backend.DeliveredMethods();
        Assert.Contains(PriceMethod, ran.Keys);
        Assert.Equal(delivered.Count, delivered.Distinct().Count());
        Assert.Equal(ran.Keys.Order(), delivered.Order());
        Assert.DoesNotContain(Token, logs);
    }

    [Theory]
    [InlineData("error500")]
    [InlineData("hang")]
    public async Task A_backend_answering_500_or_hanging_does_not_reach_the_caller_and_loses_nothing(string mode)
    {
        var backend = await StartBackendAsync();
        // Every invocation is flushed and sent right after its response: each one meets the fault.
        var container = await StartFunctionAsync(("SL_FLUSH_INTERVAL_SECONDS", "0"));
        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        await WaitUntilAsync(() => backend.DeliveredMethods().Contains(EchoMethod), "footprints before the fault", container);
        var healthy = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            healthy.Add((await container.InvokeAsync(Echo)).Latency.TotalMilliseconds);
        }

        await backend.SetModeAsync(new { mode, holdSeconds = 30 });
        var faulty = new List<double>();
        foreach (var payload in new[] { Quote, Info, Echo, Quote, Echo, Info })
        {
            var result = await container.InvokeAsync(payload, TimeSpan.FromSeconds(20));
            Assert.Equal(200, result.StatusCode);
            Assert.Null(result.FunctionError);
            faulty.Add(result.Latency.TotalMilliseconds);
        }
        await backend.SetModeAsync(new { mode = "ok" });
        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);
        output.WriteLine($"caller latency, healthy backend: {string.Join(", ", healthy.Select(l => l.ToString("0.0")))} ms");
        output.WriteLine($"caller latency, backend {mode}: {string.Join(", ", faulty.Select(l => l.ToString("0.0")))} ms");

        // A 30 s hang that reached the caller would show as seconds; figures are for the bench.
        Assert.All(faulty, latency => Assert.InRange(latency, 0, 2000));
        Assert.True((await backend.StatsAsync())["faulted"]!.GetValue<int>() > 0, "the fault never met a request");
        var delivered = backend.DeliveredMethods();
        Assert.Equal(delivered.Count, delivered.Distinct().Count());
        Assert.Equal(ReadHitsFile().Keys.Order(), delivered.Order());
        Assert.Contains(PriceMethod, delivered);
    }

    [Fact]
    public async Task Docker_stop_right_after_an_invocation_its_footprints_arrive_before_SIGKILL()
    {
        var backend = await StartBackendAsync();
        // Only the first invocation is flushed after its response; the last one waits for SHUTDOWN.
        var container = await StartFunctionAsync(("SL_FLUSH_INTERVAL_SECONDS", "3600"), RoomyBudget);
        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        await WaitUntilAsync(() => backend.DeliveredMethods().Contains(EchoMethod), "the first invocation's footprints", container);
        Assert.Equal(200, (await container.InvokeAsync(Quote)).StatusCode);
        Assert.DoesNotContain(PriceMethod, backend.DeliveredMethods());
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Contains(PriceMethod, backend.DeliveredMethods());
        Assert.Equal(ReadHitsFile().Keys.Order(), backend.DeliveredMethods().Order());
        Assert.Contains("extensions exited by themselves: [sealights-agent]; killed: []", logs);
        Assert.Contains(backend.DeliveredHits(), h => h.Final);
    }

    [Fact]
    public async Task Tmp_full_keeps_footprints_in_memory_and_delivers_them()
    {
        var backend = await StartBackendAsync();
        // /tmp as Lambda gives it (a small filesystem of its own), filled once the agent runs.
        // Every invocation is flushed right after its response, so the spool is written while /tmp
        // is full. With the default interval the flush of invocation 2 starts at INVOKE 3 in the
        // background and may be frozen with the environment until SHUTDOWN: one CI run then saw
        // all three batches sent at SHUTDOWN and no spool write failing.
        var container = await StartFunctionAsync([RoomyBudget, ("SL_FLUSH_INTERVAL_SECONDS", "0")], ["--tmpfs", "/tmp:size=4m"]);
        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        await ExecAsync(container, "dd if=/dev/zero of=/tmp/filler bs=4096 2>/dev/null; df /tmp | tail -1");
        // With the backend down, footprints must wait somewhere: memory, since the disk is full.
        await backend.StopAsync();
        await AnswersCorrectlyAsync(container);
        await backend.RestartAsync();
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Contains("footprints spool /tmp/.sealights-agent/spool cannot be written (IOException", logs);
        Assert.Contains(PriceMethod, backend.DeliveredMethods());
        Assert.Equal(ReadHitsFile().Keys.Order(), backend.DeliveredMethods().Order());
    }

    [Fact]
    public async Task A_corrupt_spool_file_is_removed_with_one_line_and_the_rest_is_delivered()
    {
        var backend = await StartBackendAsync();
        var container = await StartFunctionAsync(("SL_SPOOL_DIR", "/tmp/sl-spool"));
        // Left by an earlier agent process in the same environment: adopted at start, unreadable.
        await ExecAsync(container, """mkdir -m 700 /tmp/sl-spool && printf '{"v":1,"start":17' > /tmp/sl-spool/fp-000000000001-1767268800000-3.json""");
        await AnswersCorrectlyAsync(container);
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Contains("spool file fp-000000000001-1767268800000-3.json cannot be read back", logs);
        Assert.Equal(ReadHitsFile().Keys.Order(), backend.DeliveredMethods().Order());
        Assert.DoesNotContain(Token, logs);
    }

    private static async Task AnswersCorrectlyAsync(LambdaContainer container)
    {
        foreach (var (payload, answer) in new[] { (Echo, """{"action":"echo","message":"covered","length":7}"""), (Quote, "\"total\":13.99}") })
        {
            var result = await container.InvokeAsync(payload, TimeSpan.FromSeconds(20));
            Assert.Null(result.FunctionError);
            Assert.EndsWith(answer, result.Body);
        }
    }

    private async Task ExecAsync(LambdaContainer container, string script)
    {
        var result = (await DockerCli.RunAsync(["exec", container.Name, "sh", "-c", script])).EnsureSuccess("docker exec");
        output.WriteLine(result.Output);
    }

    /// <summary>
    /// For tests that need the first flush delivered before their next step: that holds only when
    /// the post-runtime flush finishes within its budget (300 ms by default), since past it the
    /// send goes on in the background and is frozen with the environment until the next thaw. The
    /// first flush took 37–163 ms on a quiet machine; three CI runs in a row each had one test wait
    /// 10 s in vain for the first invocation's footprints (a budget of 1 ms gives the same failure).
    /// </summary>
    private static readonly (string Name, string Value) RoomyBudget = ("SL_FLUSH_BUDGET_MS", "5000");

    private Task WaitUntilAsync(Func<bool> condition, string what, LambdaContainer container) =>
        ScenarioScratch.WaitUntilAsync(() => Task.FromResult(condition()), what, container, output, TimeSpan.FromSeconds(10));

    private async Task<TestBackendProcess> StartBackendAsync()
    {
        var backend = await TestBackendProcess.StartAsync(_scratch.Directory, _scratch.BackendPort, Token, Execution, output.WriteLine);
        _scratch.Own(backend);
        // A first request warms the fresh process's server (JIT), so the agent's first requests
        // are not the ones paying for it inside a post-runtime budget.
        await backend.StatsAsync();
        return backend;
    }

    private Task<LambdaContainer> StartFunctionAsync(params (string Name, string Value)[] settings) => StartFunctionAsync(settings, []);

    private async Task<LambdaContainer> StartFunctionAsync((string Name, string Value)[] settings, string[] runArguments)
    {
        var environment = new Dictionary<string, string>
        {
            ["SL_TOKEN"] = Token,
            ["SL_BUILD_SESSION_ID"] = Bsid,
            ["SL_LAB_ID"] = Lab,
            ["SL_DEBUG_HITS_FILE"] = "/sl-out/hits.jsonl",
            ["SL_RETRY_MIN_MS"] = "100",
            ["SL_RETRY_MAX_MS"] = "1000",
        };
        foreach (var (name, value) in settings)
        {
            environment[name] = value;
        }
        var container = await LambdaContainer.StartAsync(images.SampleImage, environment, ["--volume", $"{_scratch.Directory}:/sl-out", .. runArguments]);
        _scratch.Own(container);
        return container;
    }

    private Dictionary<string, DateTimeOffset> ReadHitsFile() => DebugHitsFile.Read(Path.Combine(_scratch.Directory, "hits.jsonl"));
}
