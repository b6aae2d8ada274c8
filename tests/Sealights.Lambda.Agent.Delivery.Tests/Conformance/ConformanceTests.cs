using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Sealights.Images.Testing;
using Xunit.Abstractions;
using static Sealights.Images.Testing.SampleCalls;

namespace Sealights.Lambda.Agent.Delivery.Tests.Conformance;

/// <summary>
/// Issue 14's conformance test: Sealights' own Node.js agent (slnodejs, pinned, installed from npm
/// by run-slnodejs-conformance.sh) and our agent (the extension in the coverage-ready image under
/// the emulator, as the integration tests run it) each talk to the stand-in backend recording
/// everything, in the same scenarios. Each recording is reduced to a <see cref="WireSchema"/>;
/// the two must agree but for the rows of deliberate-differences.md, and every row must still be
/// needed. Both schemas, the differences and the recordings go to bin/…/conformance/ for study.
/// </summary>
[Collection(ConformanceCollection.Name)]
public sealed class ConformanceTests(ConformanceImages images, ITestOutputHelper output)
{
    public static readonly string[] Scenarios = ["active-execution", "no-execution", "footprints-5xx", "other-build-session", "collector"];

    private const string Execution = "exec-conformance";
    private const string Stage = "Functional Tests";
    private const string OtherStage = "Integration Tests";
    private const string AppName = "conformance-app";
    private const string BranchName = "conformance-branch";
    private const string BuildName = "conformance-build";

    private static string Here => Path.Combine(RepositoryPaths.Root, "tests", "Sealights.Lambda.Agent.Delivery.Tests", "Conformance");

    // The agent's bsid and an integration build's: GUIDs, as the service makes them.
    private readonly string _bsid = Guid.NewGuid().ToString();
    private readonly string _otherBsid = Guid.NewGuid().ToString();

    [Fact]
    public async Task Our_agent_speaks_the_protocol_as_slnodejs_does_but_for_the_listed_differences()
    {
        var listed = DeliberateDifferences.Parse(await File.ReadAllTextAsync(Path.Combine(Here, "deliberate-differences.md")));
        var results = Path.Combine(AppContext.BaseDirectory, "conformance");
        if (Directory.Exists(results))
        {
            Directory.Delete(results, recursive: true);
        }
        Directory.CreateDirectory(results);
        output.WriteLine($"recordings, schemas and differences: {results}");

        var clock = Stopwatch.StartNew();
        var slnodejs = RunSlnodejsAsync(Path.Combine(results, "slnodejs"));
        // Two of our scenarios at a time (each a container and a backend), beside slnodejs' five.
        using var gate = new SemaphoreSlim(2);
        var ours = (await Task.WhenAll(Scenarios.Select(async scenario =>
        {
            await gate.WaitAsync();
            try
            {
                return (scenario, Run: await RunOursAsync(scenario, Path.Combine(results, "ours", scenario)));
            }
            finally
            {
                gate.Release();
            }
        }))).ToDictionary(r => r.scenario, r => r.Run);
        var oursTook = clock.Elapsed;
        var slnodejsTook = await slnodejs;
        output.WriteLine($"our agent, 5 scenarios two at a time: {oursTook.TotalSeconds:0} s; slnodejs, all at once alongside: {slnodejsTook.TotalSeconds:0} s; together {clock.Elapsed.TotalSeconds:0} s");

        var found = new Dictionary<string, IReadOnlyList<string>>();
        var report = new StringBuilder();
        var vacuous = new List<string>();
        foreach (var scenario in Scenarios)
        {
            var vocabulary = Vocabulary(scenario);
            var reference = WireSchema.Extract(ReadRecords(Path.Combine(results, "slnodejs", scenario + ".jsonl")), vocabulary);
            var our = WireSchema.Extract(ReadRecords(ours[scenario].Recording), vocabulary);
            await File.WriteAllTextAsync(Path.Combine(results, $"{scenario}.slnodejs.schema.txt"), reference.Render());
            await File.WriteAllTextAsync(Path.Combine(results, $"{scenario}.ours.schema.txt"), our.Render());
            found[scenario] = WireSchema.Compare(reference, our);
            report.AppendLine($"## {scenario}").AppendJoin('\n', found[scenario]).AppendLine().AppendLine();

            // Not vacuous: both agents said something in every scenario, and both sent footprints where they must.
            foreach (var (agent, schema) in new[] { ("slnodejs", reference), ("our agent", our) })
            {
                if (schema.Routes.Count == 0)
                {
                    vacuous.Add($"{scenario}: {agent} sent nothing");
                }
                if (scenario is "active-execution" or "other-build-session" or "collector" && !schema.Routes.Keys.Any(k => k.Contains("/footprints", StringComparison.Ordinal)))
                {
                    vacuous.Add($"{scenario}: {agent} sent no footprints");
                }
            }
        }
        var check = DeliberateDifferences.Check(listed, found);
        report.AppendLine("## check against deliberate-differences.md").AppendLine(check.Length == 0 ? "fits exactly" : check);
        report.AppendLine($"durations: ours {oursTook.TotalSeconds:0} s, slnodejs {slnodejsTook.TotalSeconds:0} s, together {clock.Elapsed.TotalSeconds:0} s");
        await File.WriteAllTextAsync(Path.Combine(results, "differences.txt"), report.ToString());

        Assert.True(vacuous.Count == 0, $"nothing to compare (logs in {results}): {string.Join("; ", vacuous)}");

        foreach (var (scenario, run) in ours)
        {
            AssertTokenNowhere(scenario, run);
        }
        Assert.True(check.Length == 0, $"slnodejs and our agent differ otherwise than deliberate-differences.md says (all of it: {results}/differences.txt):\n{check}");
    }

    /// <summary>Nothing our agent sent or logged holds the token or a piece of it (<see cref="TokenLeaks"/>).</summary>
    private static void AssertTokenNowhere(string scenario, OurRun run)
    {
        var recorded = string.Join("\n", Directory.EnumerateFiles(Path.GetDirectoryName(run.Recording)!).Select(File.ReadAllText));
        var leaks = TokenLeaks.Find(run.Token, recorded, run.Log);
        Assert.True(leaks.Count == 0, $"{scenario}: our agent leaked the token: {string.Join("; ", leaks)}");
    }

    private WireVocabulary Vocabulary(string scenario)
    {
        List<(string, string)> known = [(_bsid, "{bsid}"), (Execution, "{executionId}"), (AppName, "{appName}"), (BranchName, "{branchName}"), (BuildName, "{buildName}")];
        known.Add(scenario == "other-build-session" ? (_otherBsid, "{executionBsid}") : (Stage, "{testStage}"));
        if (scenario == "other-build-session")
        {
            known.Add((OtherStage, "{testStage}"));
        }
        // Objects whose keys are data of the machine, not of the protocol.
        return new WireVocabulary(known, ["$.events[].data.agentInfo.envVars", "$.environment.dependencies", "$.environment.ipAddress"]);
    }

    private async Task<TimeSpan> RunSlnodejsAsync(string directory)
    {
        var clock = Stopwatch.StartNew();
        var result = await ProcessRunner.RunAsync(
            "bash",
            [Path.Combine(Here, "run-slnodejs-conformance.sh"), directory],
            TimeSpan.FromMinutes(6),
            environment: new Dictionary<string, string>
            {
                ["SL_CONF_BSID"] = _bsid,
                ["SL_CONF_OTHER_BSID"] = _otherBsid,
                ["SL_CONF_EXECUTION"] = Execution,
                ["SL_CONF_STAGE"] = Stage,
                ["SL_CONF_OTHER_STAGE"] = OtherStage,
                ["SL_CONF_APP"] = AppName,
                ["SL_CONF_BRANCH"] = BranchName,
                ["SL_CONF_BUILD"] = BuildName,
                ["SL_CONF_PORTS"] = string.Join(" ", Scenarios.Select(_ => FreePorts.Next())),
                ["SL_CONF_BACKEND"] = TestBackendProcess.Assembly,
            });
        output.WriteLine(result.StdErr);
        // No silent skip: without node, npm or the registry the test fails and says why.
        Assert.True(result.ExitCode == 0, $"slnodejs (installed from npm, pinned) could not be run: exit code {result.ExitCode}\n{result.StdErr}");
        return clock.Elapsed;
    }

    private async Task<OurRun> RunOursAsync(string scenario, string directory)
    {
        Directory.CreateDirectory(directory);
        var port = FreePorts.Next();
        var token = SealightsTokens.Create($"http://127.0.0.1:{port}/api");
        await using var backend = await TestBackendProcess.StartAsync(directory, port, token, recordAll: true);
        await backend.SetModeAsync(new { mode = "build-session", buildSessionId = _bsid, appName = AppName, branchName = BranchName, buildName = BuildName });
        var environment = new Dictionary<string, string>
        {
            ["SL_TOKEN"] = token,
            ["SL_BUILD_SESSION_ID"] = _bsid,
            // Every invocation flushed and sent after its response, retries soon: a short scenario.
            ["SL_FLUSH_INTERVAL_SECONDS"] = "0",
            ["SL_FLUSH_BUDGET_MS"] = "5000",
            ["SL_RETRY_MIN_MS"] = "100",
            ["SL_RETRY_MAX_MS"] = "1000",
        };
        switch (scenario)
        {
            case "active-execution":
                await backend.SetModeAsync(new { mode = "active-execution", executionId = Execution, buildSessionId = _bsid, testStage = Stage });
                break;
            case "footprints-5xx":
                await backend.SetModeAsync(new { mode = "active-execution", executionId = Execution, buildSessionId = _bsid, testStage = Stage });
                await backend.SetModeAsync(new { mode = "error500" });
                break;
            case "other-build-session":
                await backend.SetModeAsync(new { mode = "active-execution", executionId = Execution, buildSessionId = _otherBsid, testStage = OtherStage });
                break;
            case "collector":
                await backend.SetModeAsync(new { mode = "active-execution", executionId = Execution, buildSessionId = _bsid, testStage = Stage });
                environment["SL_COLLECTOR_URL"] = $"http://127.0.0.1:{port}/collector";
                break;
        }

        await using var container = await LambdaContainer.StartAsync(images.SampleImage, environment);
        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        Assert.Equal(200, (await container.InvokeAsync(Quote)).StatusCode);
        // Time for the background sends (and, with 5xx, a few retries) before the last invocation and SHUTDOWN.
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(3) || (scenario is "active-execution" or "other-build-session" or "collector"
            && waited.Elapsed < TimeSpan.FromSeconds(15) && !File.ReadAllText(backend.RecordAllFile!).Contains("footprints", StringComparison.Ordinal)))
        {
            await Task.Delay(200);
        }
        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        await container.StopAsync();
        var log = await container.LogsAsync();
        await File.WriteAllTextAsync(Path.Combine(directory, "..", scenario + ".log"), log.Replace(token, "<token>", StringComparison.Ordinal));
        await backend.StopAsync();
        return new OurRun(backend.RecordAllFile!, token, log);
    }

    private static List<JsonObject> ReadRecords(string file) =>
        File.ReadAllLines(file).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    private sealed record OurRun(string Recording, string Token, string Log);
}

/// <summary>Once per run: the coverage-ready image on the .NET 10 stand-in and the sample function on it (as the integration tests build them).</summary>
public sealed class ConformanceImages : IAsyncLifetime
{
    public string SampleImage { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await StandInImages.EnsureBaseImagesAsync();
        var coverage = await CoverageImages.BuildAsync(StandInImages.Base("10"));
        SampleImage = await StandInImages.BuildSampleAsync("net10.0", coverage);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

// Alone: the scenarios start containers and some 20 processes; the timing tests of this assembly
// must not share the 2 cores with them.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConformanceCollection : ICollectionFixture<ConformanceImages>
{
    public const string Name = "conformance";
}
