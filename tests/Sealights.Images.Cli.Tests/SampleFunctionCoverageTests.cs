using System.Text.Json.Nodes;
using System.Xml.Linq;
using Sealights.Images.Cli.Collector;
using Sealights.Images.Testing;
using Xunit.Abstractions;
using static Sealights.Images.Testing.SampleCalls;

namespace Sealights.Images.Cli.Tests;

/// <summary>
/// Once per run: the sample function on the coverage-ready image (the integration tests' images,
/// rebuilt only when their content changed), and the build map of its /var/task as
/// <c>sl-images scan</c> writes it.
/// </summary>
public sealed class SampleFunctionImage : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sl-sample-image-").FullName;

    public string Image { get; private set; } = "";

    public string BuildMap => Path.Combine(_directory, "buildmap.json");

    public async Task InitializeAsync()
    {
        await StandInImages.EnsureBaseImagesAsync();
        Image = await StandInImages.BuildSampleAsync("net10.0", await CoverageImages.BuildAsync(StandInImages.Base("10")));
        // The build map of what the image runs, from the image itself.
        var name = $"sl-cli-scan-{Guid.NewGuid():N}"[..24];
        (await DockerCli.RunAsync(["create", "--name", name, Image])).EnsureSuccess("docker create");
        try
        {
            (await DockerCli.RunAsync(["cp", $"{name}:/var/task", Path.Combine(_directory, "task")])).EnsureSuccess("docker cp /var/task");
        }
        finally
        {
            await DockerCli.RemoveContainerAsync(name);
        }
        (await ProcessRunner.RunAsync("dotnet", [CollectorProcess.Cli, "scan", Path.Combine(_directory, "task"), "--output", BuildMap], TimeSpan.FromMinutes(2)))
            .EnsureSuccess("sl-images scan /var/task");
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}

// Alone: the waits for footprints after a response are short-budgeted flushes that a concurrent
// image build on 2 cores can delay (the integration tests' coverage collection does the same).
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SampleFunctionCollection : ICollectionFixture<SampleFunctionImage>, ICollectionFixture<ReportGeneratorTool>
{
    public const string Name = "sample function under the collector";
}

/// <summary>
/// <c>collect</c> + <c>report</c> end to end: the sample function under the emulator, its agent
/// sending to <c>sl-images collect</c> (in collector mode, and taking it for its server), then
/// <c>sl-images report</c>. The agent's debug hits file is the ground truth of what ran.
/// </summary>
[Collection(SampleFunctionCollection.Name)]
public sealed class SampleFunctionCoverageTests(SampleFunctionImage sample, ReportGeneratorTool reportGenerator, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Bsid = "bsid-local";

    private readonly string _directory = Directory.CreateTempSubdirectory("sl-sample-coverage-").FullName;
    private readonly int _port = FreePorts.Next();
    private CollectorProcess? _collector;
    private LambdaContainer? _container;

    private string Footprints => Path.Combine(_directory, "footprints");

    private string Out => Path.Combine(_directory, "report");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
        if (_collector is not null)
        {
            output.WriteLine(_collector.Log);
            await _collector.DisposeAsync();
        }
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Collector_mode_report_matches_the_invoked_paths_per_method_and_per_execution_and_ReportGenerator_reads_it()
    {
        _collector = await CollectorProcess.StartAsync(Footprints, _port, "--build-map", sample.BuildMap, "--execution", "echo-run");
        var container = await StartFunctionAsync(("SL_COLLECTOR_URL", $"http://127.0.0.1:{_port}"));

        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        await WaitForStoredAsync(EchoMethod);
        // The next test run: the collector files what arrives from now on under it.
        await _collector.StartExecutionAsync("quote-run");
        Assert.Equal(200, (await container.InvokeAsync(Quote)).StatusCode);
        await WaitForStoredAsync(PriceMethod);
        await container.StopAsync();
        output.WriteLine(await container.LogsAsync());

        var ran = DebugHitsFile.ReadMethods(Path.Combine(_directory, "hits.jsonl"));
        Assert.Contains(EchoMethod, ran);
        Assert.Contains(PriceMethod, ran);
        var result = await ReportAsync("--format", "summary,cobertura,lcov,json", "--by-execution");
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Out, "coverage.json")))!;
        AssertMatchesWhatRan(json, ran);
        Assert.Empty(json["unknownMethodIds"]!.AsArray());
        Assert.Equal("0", (await _collector.HealthAsync())["unknownMethodIds"]!.ToJsonString());

        var executions = json["executions"]!.AsArray().ToDictionary(e => (string)e!["executionId"]!, e => CoveredIds(e!));
        Assert.Equal(["echo-run", "quote-run"], executions.Keys);
        Assert.Contains(EchoMethod, executions["echo-run"]);
        Assert.DoesNotContain(PriceMethod, executions["echo-run"]);
        Assert.Contains(PriceMethod, executions["quote-run"]);
        Assert.DoesNotContain(EchoMethod, executions["quote-run"]);
        Assert.Equal(CoveredIds(json).Order(), executions.Values.SelectMany(e => e).Distinct().Order());
        Assert.Matches(@"echo-run\s+\d+\s+\d+\s+\d+\s+\d+\.\d%", result.StdOut);

        // ReportGenerator reads both line formats; its counts are the report's.
        var cobertura = XDocument.Load(Path.Combine(Out, "coverage.cobertura.xml")).Root!;
        foreach (var (file, parser) in new[] { ("coverage.cobertura.xml", "Cobertura"), ("lcov.info", "LCov") })
        {
            var summary = (await reportGenerator.SummaryAsync(Path.Combine(Out, file), Path.Combine(_directory, "rg-" + parser)))["summary"]!;
            output.WriteLine($"{file}: {summary.ToJsonString()}");
            Assert.Equal(parser, (string?)summary["parser"]);
            Assert.Equal((int)cobertura.Attribute("lines-covered")!, (int?)summary["coveredlines"]);
            Assert.Equal((int)cobertura.Attribute("lines-valid")!, (int?)summary["coverablelines"]);
            Assert.Equal(MethodCount(json), (int?)summary["totalmethods"]);
        }
        // ReportGenerator's method figure from Cobertura follows the lines: a method sharing its
        // first line with a method that ran counts as covered there (the report's own figures do not).
        var methods = AllMethods(json);
        var coveredLines = methods.Where(m => m.Covered).Select(m => (m.File, m.Line)).ToHashSet();
        Assert.Equal(methods.Count(m => coveredLines.Contains((m.File, m.Line))), (int?)(await reportGenerator.SummaryAsync(Path.Combine(Out, "coverage.cobertura.xml"), Path.Combine(_directory, "rg-methods")))["summary"]!["coveredmethods"]);
    }

    [Fact]
    public async Task An_agent_taking_the_collector_for_its_server_is_reported_the_same()
    {
        _collector = await CollectorProcess.StartAsync(Footprints, _port, "--build-map", sample.BuildMap, "--execution", "server-run");
        var container = await StartFunctionAsync();

        Assert.Equal(200, (await container.InvokeAsync(Quote)).StatusCode);
        await WaitForStoredAsync(PriceMethod);
        await container.StopAsync();
        output.WriteLine(await container.LogsAsync());

        var records = FootprintsStoreReader.Read(Footprints).Records;
        Assert.All(records, r => Assert.Equal(("server", "server-run", Bsid), (r.Route, r.ExecutionId, r.Bsid)));
        await ReportAsync("--format", "json");
        AssertMatchesWhatRan(JsonNode.Parse(File.ReadAllText(Path.Combine(Out, "coverage.json")))!, DebugHitsFile.ReadMethods(Path.Combine(_directory, "hits.jsonl")));
    }

    /// <summary>Every build-map method: covered exactly when it ran, its class, file and assembly percentages from those.</summary>
    private static void AssertMatchesWhatRan(JsonNode report, HashSet<string> ran)
    {
        var all = new List<string>();
        foreach (var assembly in report["assemblies"]!.AsArray())
        {
            foreach (var file in assembly!["files"]!.AsArray())
            {
                foreach (var type in file!["classes"]!.AsArray())
                {
                    var methods = type!["methods"]!.AsArray();
                    foreach (var method in methods)
                    {
                        var id = (string)method!["id"]!;
                        all.Add(id);
                        Assert.True(ran.Contains(id) == (bool)method["covered"]!, $"{id}: ran {ran.Contains(id)}, reported covered {method["covered"]}");
                    }
                    var ranHere = methods.Count(m => ran.Contains((string)m!["id"]!));
                    Assert.Equal(Math.Round(100.0 * ranHere / methods.Count, 2), (double)type["coverage"]!["percent"]!);
                }
            }
        }
        Assert.Equal(Math.Round(100.0 * all.Count(ran.Contains) / all.Count, 2), (double)report["coverage"]!["percent"]!);
        // What ran is in the build map (nothing the agent reported is missing from the report).
        Assert.Subset(all.ToHashSet(), ran);
    }

    private static HashSet<string> CoveredIds(JsonNode report) =>
        report["assemblies"]!.AsArray().SelectMany(a => a!["files"]!.AsArray()).SelectMany(f => f!["classes"]!.AsArray())
            .SelectMany(c => c!["methods"]!.AsArray()).Where(m => (bool)m!["covered"]!).Select(m => (string)m!["id"]!).ToHashSet();

    private static List<(string File, int Line, bool Covered)> AllMethods(JsonNode report) =>
        report["assemblies"]!.AsArray().SelectMany(a => a!["files"]!.AsArray())
            .SelectMany(f => f!["classes"]!.AsArray().SelectMany(c => c!["methods"]!.AsArray()).Select(m => ((string)f!["path"]!, (int)m!["startLine"]!, (bool)m["covered"]!)))
            .ToList();

    private static int MethodCount(JsonNode report) => (int)report["coverage"]!["methods"]!;

    private async Task<LambdaContainer> StartFunctionAsync(params (string Name, string Value)[] settings)
    {
        var environment = new Dictionary<string, string>
        {
            // Lifecycle calls go to the token's server: the collector answers them too.
            ["SL_TOKEN"] = SealightsTokens.Create($"http://127.0.0.1:{_port}/api"),
            ["SL_BUILD_SESSION_ID"] = Bsid,
            ["SL_DEBUG_HITS_FILE"] = "/sl-out/hits.jsonl",
            ["SL_FLUSH_INTERVAL_SECONDS"] = "0",
            ["SL_FLUSH_BUDGET_MS"] = "5000",
            ["SL_RETRY_MIN_MS"] = "100",
            ["SL_RETRY_MAX_MS"] = "1000",
        };
        foreach (var (name, value) in settings)
        {
            environment[name] = value;
        }
        _container = await LambdaContainer.StartAsync(sample.Image, environment, ["--volume", $"{_directory}:/sl-out"]);
        return _container;
    }

    private async Task WaitForStoredAsync(string method)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!FootprintsStoreReader.Read(Footprints).Records.Any(r => r.Body.GetProperty("methods").EnumerateArray().Any(m => m.GetString() == method)))
        {
            if (DateTime.UtcNow > deadline)
            {
                output.WriteLine(await _container!.LogsAsync());
                Assert.Fail($"footprints with {method} were not stored in 30 s");
            }
            await Task.Delay(100);
        }
    }

    private async Task<ProcessResult> ReportAsync(params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync("dotnet", [CollectorProcess.Cli, "report", "--build-map", sample.BuildMap, "--footprints", Footprints, "--out", Out, .. arguments], TimeSpan.FromMinutes(2));
        output.WriteLine(result.Output);
        Assert.Equal(0, result.ExitCode);
        return result;
    }
}
