using System.Text;
using System.Text.Json.Nodes;
using Sealights.Images.Cli.Collector;
using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.Cli.Tests;

/// <summary>
/// <c>sl-images collect</c> as a real process on loopback: what it stores, what it refuses and
/// why, the routes an agent calls when it takes it for its server, and durability across kill -9.
/// </summary>
public sealed class CollectCommandTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Echo = "App|App.Function|Echo(System.String)";
    private const string Handle = "App|App.Function|Handle(System.IO.Stream)";

    private readonly string _directory = System.IO.Directory.CreateTempSubdirectory("sl-collect-").FullName;
    private readonly List<CollectorProcess> _started = [];

    private string Out => Path.Combine(_directory, "footprints");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var collector in _started)
        {
            output.WriteLine(collector.Log);
            await collector.DisposeAsync();
        }
        System.IO.Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Collector_and_server_routes_are_stored_with_their_execution_and_health_counts_them()
    {
        var collector = await StartAsync();

        var collectorMode = await collector.PostAsync("/v6/agents/bsid-1/footprints", FootprintsBodies.Bytes(FootprintsBodies.Document([Echo, Handle])));
        var serverMode = await collector.PostAsync(
            "/api/v6/agents/bsid-1/footprints/Functional%20Tests/bsid-1/",
            FootprintsBodies.Bytes(FootprintsBodies.Document([Handle], "exec-9")),
            headers: new Dictionary<string, string> { ["x-sl-executionId"] = "exec-9", ["x-sl-labId"] = "lab-1", ["Authorization"] = "Bearer secret-token-value" });
        var plain = await collector.PostAsync("/v6/agents/bsid-1/footprints", FootprintsBodies.Bytes(FootprintsBodies.Document([Echo])), gzip: false);

        Assert.Equal((200, "{}"), collectorMode);
        Assert.Equal((200, "{}"), serverMode);
        Assert.Equal(200, plain.Status);
        var health = await collector.HealthAsync();
        Assert.Equal("ok", (string?)health["status"]);
        Assert.Equal(3, (int?)health["stored"]);
        Assert.Equal(0, (int?)health["rejected"]);
        var (records, unreadable) = FootprintsStoreReader.Read(Out);
        Assert.Equal(0, unreadable);
        Assert.Equal(["collector", "server", "collector"], records.Select(r => r.Route));
        Assert.Equal(["local", "exec-9", "local"], records.Select(r => r.ExecutionId));
        Assert.Equal("Functional Tests", records[1].TestStage);
        Assert.All(records, r => Assert.Equal("bsid-1", r.Bsid));
        Assert.Equal([Echo, Handle], records[0].Body.GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
        // The token is never stored or logged.
        Assert.DoesNotContain("secret-token-value", File.ReadAllText(collector.StoreFile));
        Assert.Equal(0, await collector.StopAsync());
        Assert.DoesNotContain("secret-token-value", collector.Log);
    }

    public static TheoryData<string, byte[], bool, string> MalformedBodies() => new()
    {
        { "not gzip", Encoding.UTF8.GetBytes("{\"formatVersion\":\"6.0\"}"), false, "Content-Encoding is gzip but the body is not gzip data" },
        { "not JSON", Encoding.UTF8.GetBytes("footprints"), true, "the body is not JSON" },
        { "another format", Body(d => d["formatVersion"] = "5.0"), true, "formatVersion \"5.0\" is not supported (expected \"6.0\")" },
        { "no methods", Body(d => d.Remove("methods")), true, "no methods array" },
        { "index out of range", Body(d => d["executions"]![0]!["hits"]![0]!["methods"] = new JsonArray(0, 2)), true, "executions[0].hits[0].methods[1] is not an index into methods (0..1)" },
        { "milliseconds", Body(d => d["executions"]![0]!["hits"]![0]!["start"] = 1_767_268_800_000L), true, "executions[0].hits[0]: start/end look like milliseconds; the format takes epoch seconds" },
        { "start after end", Body(d => d["executions"]![0]!["hits"]![0]!["start"] = 1_767_268_900L), true, "executions[0].hits[0]: start (1767268900) is after end" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task A_malformed_body_gets_400_that_says_why_and_is_not_stored(string what, byte[] body, bool gzip, string reason)
    {
        var collector = await StartAsync();

        // "not gzip" sends plain bytes under Content-Encoding: gzip.
        var (status, answer) = what == "not gzip"
            ? await PostClaimingGzipAsync(collector, body)
            : await collector.PostAsync("/v6/agents/bsid-1/footprints", body, gzip);

        Assert.Equal(400, status);
        Assert.Contains(reason, answer);
        await collector.WaitForLogAsync(reason);
        var health = await collector.HealthAsync();
        Assert.Equal(1, (int?)health["rejected"]);
        Assert.Equal(0, (int?)health["stored"]);
        Assert.Empty(FootprintsStoreReader.Read(Out).Records);
    }

    [Fact]
    public async Task Kill_9_right_after_each_2xx_loses_nothing_acknowledged()
    {
        var acknowledged = new List<string>();
        for (var round = 0; round < 3; round++)
        {
            var collector = await StartAsync();
            for (var i = 0; i < 5; i++)
            {
                var method = $"App|App.Round{round}|M{i}()";
                var (status, _) = await collector.PostAsync("/v6/agents/bsid-1/footprints", FootprintsBodies.Bytes(FootprintsBodies.Document([method])));
                Assert.Equal(200, status);
                acknowledged.Add(method);
            }
            // Killed the moment the last answer arrived: no graceful stop, no flush at exit.
            await collector.KillAsync();
            if (round == 1)
            {
                // What a crash in the middle of a write leaves: part of a line, never acknowledged.
                File.AppendAllText(collector.StoreFile, "{\"v\":1,\"receivedAt\":\"2026-");
            }
        }

        var (records, unreadable) = FootprintsStoreReader.Read(Out);
        Assert.Equal(acknowledged, records.Select(r => r.Body.GetProperty("methods")[0].GetString()));
        Assert.Equal(1, unreadable);
    }

    [Fact]
    public async Task With_a_build_map_unknown_ids_are_warned_about_once_each()
    {
        var buildMap = Path.Combine(_directory, "buildmap.json");
        File.WriteAllText(buildMap, BuildMaps.Json(("App", "App.dll", [(Echo, "/src/App/Function.cs", 10, 12), (Handle, "/src/App/Function.cs", 20, 30)])));
        var collector = await StartAsync("--build-map", buildMap);

        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(200, (await collector.PostAsync("/v6/agents/bsid-1/footprints", FootprintsBodies.Bytes(FootprintsBodies.Document([Echo, "Other|Other.T|M()"])))).Status);
        }

        var health = await collector.HealthAsync();
        Assert.Equal(1, (int?)health["unknownMethodIds"]);
        Assert.Equal(2, (int?)health["stored"]);
        var log = await collector.WaitForLogAsync("method id not in the build map(s) (bsid bsid-1): Other|Other.T|M()");
        // The second request's warning, had there been one, was written before its answer too.
        await collector.StopAsync();
        log = collector.Log;
        Assert.Single(log.Split('\n'), l => l.Contains("method id not in the build map(s) (bsid bsid-1): Other|Other.T|M()", StringComparison.Ordinal));
        Assert.DoesNotContain(Echo, log);
    }

    [Fact]
    public async Task An_agent_taking_it_for_its_server_gets_an_active_execution_and_the_answers_it_needs()
    {
        var collector = await StartAsync("--execution", "manual-run", "--test-stage", "Local Tests");

        var execution = JsonNode.Parse(await collector.GetAsync("/api/v4/testExecution/lab-1/"))!["execution"]!;
        Assert.Equal("manual-run", (string?)execution["executionId"]);
        Assert.Equal("Local Tests", (string?)execution["testStage"]);
        Assert.Equal("created", (string?)execution["status"]);
        await collector.StartExecutionAsync("run-2");
        Assert.Equal("run-2", (string?)JsonNode.Parse(await collector.GetAsync("/api/v4/testExecution/lab-1/"))!["execution"]!["executionId"]);
        Assert.Equal("bsid-1", (string?)JsonNode.Parse(await collector.GetAsync("/api/v2/agents/buildsession/bsid-1/"))!["buildSessionId"]);
        Assert.Equal("{}", await collector.GetAsync("/api/v3/config?agentType=TestListener"));
        Assert.Equal(200, (await collector.PostAsync("/api/v3/agents/agent-events/", Encoding.UTF8.GetBytes("""{"agentId":"a","events":[]}"""))).Status);
        Assert.Equal(200, (await collector.PostAsync("/v6/agents/bsid-1/footprints", FootprintsBodies.Bytes(FootprintsBodies.Document([Echo])))).Status);
        Assert.Equal("run-2", FootprintsStoreReader.Read(Out).Records.Single().ExecutionId);
        Assert.Equal(0, await collector.StopAsync());
        Assert.Contains("stopped; 1 request(s) stored", collector.Log);
    }

    [Theory]
    [InlineData("--listen", "localhost", "sl-images collect: --listen localhost: expected IP:PORT with a port from 1 to 65535 (e.g. 127.0.0.1:8770)")]
    [InlineData("--build-map", "missing.json", "sl-images collect: --build-map ")]
    public async Task Bad_input_is_one_line_and_exit_2(string option, string value, string expected)
    {
        string[] arguments = option == "--listen"
            ? [CollectorProcess.Cli, "collect", "--listen", value, "--out", Out]
            : [CollectorProcess.Cli, "collect", "--listen", $"127.0.0.1:{FreePorts.Next()}", "--out", Out, option, Path.Combine(_directory, value)];

        var result = await ProcessRunner.RunAsync("dotnet", arguments, TimeSpan.FromSeconds(60));

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(expected, line);
        Assert.DoesNotContain(" at ", result.Output);
    }

    [Fact]
    public async Task Help_shows_an_example()
    {
        var result = await ProcessRunner.RunAsync("dotnet", [CollectorProcess.Cli, "collect", "--help"], TimeSpan.FromSeconds(60));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("sl-images collect --listen 127.0.0.1:8770 --out", result.StdOut);
    }

    private async Task<CollectorProcess> StartAsync(params string[] arguments)
    {
        var collector = await CollectorProcess.StartAsync(Out, FreePorts.Next(), arguments);
        _started.Add(collector);
        return collector;
    }

    private static async Task<(int, string)> PostClaimingGzipAsync(CollectorProcess collector, byte[] body)
    {
        using var http = new HttpClient();
        var content = new ByteArrayContent(body);
        content.Headers.ContentEncoding.Add("gzip");
        using var response = await http.PostAsync(new Uri(collector.BaseAddress, "/v6/agents/bsid-1/footprints"), content);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static byte[] Body(Action<JsonObject> change)
    {
        var document = FootprintsBodies.Document([Echo, Handle], start: 1_767_268_800L);
        change(document);
        return FootprintsBodies.Bytes(document);
    }
}
