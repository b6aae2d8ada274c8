using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Sealights.Images.IntegrationTests.Infrastructure;
using Sealights.Images.Testing;
using Xunit.Abstractions;
using static Sealights.Images.Testing.SampleCalls;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// The agent announcing itself to Sealights (Delivery/README.md "Lifecycle calls") from the
/// coverage-ready image under the emulator, against the stand-in backend as a real process on
/// loopback: the calls in slnodejs' order with the identity headers, none of them before the
/// function's runtime had started (the backend's arrival times against the emulator's log), and
/// <c>enabled: false</c> from the remote configuration silencing footprints.
/// </summary>
[Collection(CoverageCollection.Name)]
public sealed partial class AgentAnnouncementTests(CoverageFixture images, ITestOutputHelper output) : IDisposable
{
    private const string Bsid = "bsid-announce";
    private const string Execution = "execution-announce";

    private readonly ScenarioScratch _scratch = new("sl-announce-");

    private string Token => field ??= SealightsTokens.Create($"http://127.0.0.1:{_scratch.BackendPort}/api");

    public void Dispose() => _scratch.Dispose();

    // The emulator's diagnostics (LOG_LEVEL=debug): "06 Dec 2026 19:52:00,123 [DEBUG] (rie) started runtime (pid 42): …".
    [GeneratedRegex(@"^(?<time>\d\d \w{3} \d{4} \d\d:\d\d:\d\d,\d{3}) \[DEBUG\] \(rie\) (?<what>started runtime \(pid|init #1 done)", RegexOptions.Multiline)]
    private static partial Regex EmulatorMilestone();

    [Fact]
    public async Task The_agent_announces_itself_in_order_with_identity_headers_and_nothing_before_the_runtime_started()
    {
        var backend = await StartBackendAsync();
        var container = await StartFunctionAsync();

        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        await WaitUntilAsync(() => backend.AgentEvents().Count >= 3 && backend.FootprintsRecords().Count > 0, "1001, 1006, 1010 and footprints", container);
        Assert.Equal(200, (await container.InvokeAsync(Quote)).StatusCode);
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        // No request reached the backend before the runtime was started, nor before init was over.
        var milestones = EmulatorMilestone().Matches(logs).ToDictionary(
            m => m.Groups["what"].Value.StartsWith("started", StringComparison.Ordinal) ? "runtime" : "init",
            m => DateTimeOffset.ParseExact(m.Groups["time"].Value, "dd MMM yyyy HH:mm:ss,fff", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal));
        Assert.True(milestones.ContainsKey("runtime") && milestones.ContainsKey("init"), "the emulator's debug log has no runtime start or init end");
        var records = backend.Records();
        var first = records.Min(r => DateTimeOffset.Parse((string)r["time"]!, CultureInfo.InvariantCulture));
        output.WriteLine($"runtime started {milestones["runtime"]:HH:mm:ss.fff}, init done {milestones["init"]:HH:mm:ss.fff}, first request {first:HH:mm:ss.fff}");
        Assert.True(first >= milestones["runtime"], $"a request at {first:O} came before the runtime started at {milestones["runtime"]:O}");
        Assert.True(first >= milestones["init"], $"a request at {first:O} came before init was over at {milestones["init"]:O}");

        var routes = records.Select(r => (string)r["route"]!).ToList();
        Assert.Equal(["buildsession-get", "remote-config", "execution"], routes.Take(3));
        var events = backend.AgentEvents().Select(e => (int)e["body"]!["events"]![0]!["type"]!).ToList();
        Assert.Equal([1001, 1006, 1010], events.Take(3));
        Assert.Equal(1002, events[^1]);
        Assert.DoesNotContain(4006, events);

        foreach (var record in records.Skip(1))
        {
            var headers = record["headers"]!.AsObject();
            Assert.Equal("orders", (string?)headers["x-sl-appname"]);
            Assert.Equal("main", (string?)headers["x-sl-branchname"]);
            Assert.Equal("42", (string?)headers["x-sl-buildname"]);
            var metadata = JsonNode.Parse((string)headers["sl-metadata"]!)!;
            Assert.Equal(Bsid, (string?)metadata["buildSessionId"]);
            Assert.Equal("TestListener", (string?)metadata["agentType"]);
            Assert.Equal("dotnet", (string?)metadata["agentTechnology"]);
        }
        var lambda = backend.AgentEvents()[0]["body"]!["events"]![0]!["data"]!["techSpecificInfo"]!;
        Assert.Equal("orders-fn", (string?)lambda["functionName"]);
        Assert.Equal(512, (int)lambda["memorySizeMB"]!);
        Assert.StartsWith("10.", (string?)lambda["dotnetVersion"]);
        Assert.All(records, r => Assert.DoesNotContain(Token, r.ToJsonString(), StringComparison.Ordinal));
        Assert.DoesNotContain(Token, logs);
    }

    [Fact]
    public async Task Remote_configuration_enabled_false_silences_footprints_and_events()
    {
        var backend = await StartBackendAsync();
        await backend.SetModeAsync(new { mode = "remote-config", config = new { enabled = false } });
        var container = await StartFunctionAsync();

        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        Assert.Equal(200, (await container.InvokeAsync(Quote)).StatusCode);
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Equal(["buildsession-get", "remote-config"], backend.Records().Select(r => (string)r["route"]!));
        Assert.Single(Regex.Matches(logs, Regex.Escape("turns this agent off (enabled: false)")));
        // Coverage was collected all the same (the debug file): only sending is off.
        Assert.Contains("SampleFunction|SampleFunction.Function|Echo(System.String)", DebugHitsFile.Read(Path.Combine(_scratch.Directory, "hits.jsonl")).Keys);
    }

    private Task WaitUntilAsync(Func<bool> condition, string what, LambdaContainer container) =>
        ScenarioScratch.WaitUntilAsync(() => Task.FromResult(condition()), what, container, output, TimeSpan.FromSeconds(15));

    private async Task<TestBackendProcess> StartBackendAsync()
    {
        var backend = await TestBackendProcess.StartAsync(_scratch.Directory, _scratch.BackendPort, Token, Execution, output.WriteLine);
        _scratch.Own(backend);
        await backend.SetModeAsync(new { mode = "build-session", buildSessionId = Bsid, appName = "orders", branchName = "main", buildName = "42" });
        return backend;
    }

    private async Task<LambdaContainer> StartFunctionAsync()
    {
        var environment = new Dictionary<string, string>
        {
            ["SL_TOKEN"] = Token,
            ["SL_BUILD_SESSION_ID"] = Bsid,
            ["SL_DEBUG_HITS_FILE"] = "/sl-out/hits.jsonl",
            ["SL_FLUSH_BUDGET_MS"] = "5000",
            ["AWS_LAMBDA_FUNCTION_NAME"] = "orders-fn",
            ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "512",
            // The emulator's debug lines carry the runtime's start and init's end, with times.
            ["LOG_LEVEL"] = "debug",
        };
        var container = await LambdaContainer.StartAsync(images.SampleImage, environment, ["--volume", $"{_scratch.Directory}:/sl-out"]);
        _scratch.Own(container);
        return container;
    }
}
