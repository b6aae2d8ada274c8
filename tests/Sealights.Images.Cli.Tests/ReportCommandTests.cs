using System.Text.Json.Nodes;
using System.Xml.Linq;
using Sealights.Images.Cli.Collector;
using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.Cli.Tests;

/// <summary>
/// <c>sl-images report</c> as a process on footprints stored by the collector's own store: exact
/// method coverage per method, class, file and assembly; per execution; what Cobertura and LCOV
/// claim (one line per method, its first), read back by ReportGenerator; bad input.
/// </summary>
public sealed class ReportCommandTests(ReportGeneratorTool reportGenerator, ITestOutputHelper output) : IClassFixture<ReportGeneratorTool>, IDisposable
{
    private const string Handle = "App|App.Function|Handle(System.IO.Stream)";
    private const string Echo = "App|App.Function|Echo(System.String)";
    private const string Fail = "App|App.Function|Fail()";
    private const string Lambda = "App|App.Function|Handle>lambda_3_0";
    private const string Price = "App|App.Pricing|Price(System.Decimal,System.Int32)";
    private const string LibAdd = "Lib|Lib.Math|Add(System.Int32,System.Int32)";

    private readonly string _directory = Directory.CreateTempSubdirectory("sl-report-").FullName;

    private string BuildMap => Path.Combine(_directory, "buildmap.json");

    private string Footprints => Path.Combine(_directory, "footprints");

    private string Out => Path.Combine(_directory, "report");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Coverage_is_exact_per_method_and_adds_up_per_class_file_assembly_and_execution()
    {
        await ArrangeAsync();

        var result = await ReportAsync("--format", "summary,cobertura,lcov,json", "--by-execution");

        Assert.Equal(0, result.ExitCode);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Out, "coverage.json")))!;
        var methods = json["assemblies"]!.AsArray().SelectMany(a => a!["files"]!.AsArray()).SelectMany(f => f!["classes"]!.AsArray())
            .SelectMany(c => c!["methods"]!.AsArray()).ToDictionary(m => (string)m!["id"]!, m => ((bool)m!["covered"]!, (int)m["hits"]!));
        Assert.Equal((true, 2), methods[Handle]);
        Assert.Equal((true, 1), methods[Echo]);
        Assert.Equal((false, 0), methods[Fail]);
        Assert.Equal((true, 1), methods[Lambda]);
        Assert.Equal((true, 1), methods[Price]);
        Assert.Equal((false, 0), methods[LibAdd]);
        Assert.Equal((6, 4, 66.67), Counts(json));
        var app = json["assemblies"]!.AsArray().Single(a => (string?)a!["name"] == "App")!;
        Assert.Equal((5, 4, 80.0), Counts(app));
        var function = app["files"]!.AsArray().Single(f => (string?)f!["path"] == "/src/App/Function.cs")!;
        Assert.Equal((4, 3, 75.0), Counts(function));
        Assert.Equal(["Other|Other.T|M()"], json["unknownMethodIds"]!.AsArray().Select(n => (string?)n));

        var executions = json["executions"]!.AsArray().ToDictionary(e => (string)e!["executionId"]!);
        Assert.Equal(["run-1", "run-2"], executions.Keys);
        Assert.Equal((6, 3, 50.0), Counts(executions["run-1"]!));
        Assert.Equal((6, 2, 33.33), Counts(executions["run-2"]!));
        Assert.True(File.Exists(Path.Combine(Out, "executions", "run-2", "lcov.info")));
        Assert.Contains("TN:run-2", File.ReadAllText(Path.Combine(Out, "executions", "run-2", "lcov.info")));

        Assert.Contains("a \"line\" in the Cobertura/LCOV output is a method's first line", result.StdOut);
        Assert.Matches(@"total\s+6\s+4\s+66\.7%", result.StdOut);
        Assert.Matches(@"  App\.Function\s+4\s+3\s+75\.0%", result.StdOut);
        Assert.Matches(@"run-2\s+1\s+6\s+2\s+33\.3%", result.StdOut);
        Assert.Contains("1 method id(s) in the footprints are not in the build map(s)", result.StdOut);
    }

    [Fact]
    public async Task Cobertura_and_lcov_claim_one_line_per_method_and_ReportGenerator_reads_both()
    {
        await ArrangeAsync();

        var result = await ReportAsync("--format", "cobertura,lcov,html", "--reportgenerator", reportGenerator.Executable);

        Assert.Equal(0, result.ExitCode);
        var cobertura = XDocument.Load(Path.Combine(Out, "coverage.cobertura.xml"));
        // Echo and the lambda start on line 20: one line, covered because either ran.
        var functionLines = cobertura.Descendants("class").Single(c => (string?)c.Attribute("name") == "App.Function").Element("lines")!.Elements("line")
            .ToDictionary(l => (int)l.Attribute("number")!, l => (int)l.Attribute("hits")!);
        Assert.Equal(new Dictionary<int, int> { [10] = 2, [20] = 1, [30] = 0 }, functionLines);
        Assert.Equal(["1", "1", "1", "0"], cobertura.Descendants("method").Where(m => m.Ancestors("class").First().Attribute("name")!.Value == "App.Function")
            .Select(m => (string)m.Attribute("line-rate")!));
        Assert.All(cobertura.Descendants("method"), m => Assert.Single(m.Descendants("line")));
        Assert.Equal("5", (string?)cobertura.Root!.Attribute("lines-valid"));
        Assert.Equal("3", (string?)cobertura.Root!.Attribute("lines-covered"));
        Assert.Contains("A \"line\" here is the first line of a method", cobertura.Nodes().OfType<XComment>().Single().Value);
        Assert.True(File.Exists(Path.Combine(Out, "html", "index.html")));

        foreach (var (file, parser) in new[] { ("coverage.cobertura.xml", "Cobertura"), ("lcov.info", "LCov") })
        {
            var summary = (await reportGenerator.SummaryAsync(Path.Combine(Out, file), Path.Combine(_directory, "rg-" + parser)))["summary"]!;
            output.WriteLine($"{file}: {summary.ToJsonString()}");
            Assert.Equal(parser, (string?)summary["parser"]);
            Assert.Equal(5, (int?)summary["coverablelines"]);
            Assert.Equal(3, (int?)summary["coveredlines"]);
            Assert.Equal(6, (int?)summary["totalmethods"]);
            // From LCOV, ReportGenerator derives a method's coverage from the lines up to the next
            // method: of two methods starting on one line (Echo and the lambda) it counts one.
            Assert.Equal(parser == "Cobertura" ? 4 : 3, (int?)summary["coveredmethods"]);
        }
    }

    [Fact]
    public async Task Torn_lines_and_foreign_records_are_skipped_with_one_line_each()
    {
        await ArrangeAsync();
        File.AppendAllText(Path.Combine(Footprints, "footprints.jsonl"), "{\"v\":1,\"receivedAt\":\"2026-01-01T00:00:00Z\",\"route\":\"collector\",\"body\":{\"formatVersion\":\"5.0\"}}\n{\"v\":1,\"recei");

        var result = await ReportAsync("--format", "json");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("sl-images report: 1 line(s) in", result.StdErr);
        Assert.Contains("sl-images report: 1 stored request(s) are not footprints documents, skipped (first: formatVersion \"5.0\" is not supported", result.StdErr);
        Assert.Equal((6, 4, 66.67), Counts(JsonNode.Parse(File.ReadAllText(Path.Combine(Out, "coverage.json")))!));
    }

    [Theory]
    [InlineData("format", "sl-images report: --format summary,xml: unknown format 'xml'; expected a comma-separated list of summary, cobertura, lcov, json, html")]
    [InlineData("footprints", "sl-images report: --footprints ")]
    [InlineData("build-map", "sl-images report: --build-map ")]
    [InlineData("reportgenerator", "sl-images report: --format html needs ReportGenerator, not found at ")]
    [InlineData("missing", "Option '--build-map' is required.")]
    public async Task Bad_input_is_one_line_exit_2_and_no_stack_trace(string what, string expected)
    {
        await ArrangeAsync();
        File.WriteAllText(Path.Combine(_directory, "broken.json"), "{\"formatVersion\":\"1\"");
        string[] arguments = what switch
        {
            "format" => ["--build-map", BuildMap, "--footprints", Footprints, "--format", "summary,xml"],
            "footprints" => ["--build-map", BuildMap, "--footprints", Path.Combine(_directory, "none")],
            "build-map" => ["--build-map", Path.Combine(_directory, "broken.json"), "--footprints", Footprints],
            "reportgenerator" => ["--build-map", BuildMap, "--footprints", Footprints, "--format", "html", "--reportgenerator", Path.Combine(_directory, "no-such-tool")],
            _ => ["--footprints", Footprints],
        };

        var result = await ProcessRunner.RunAsync("dotnet", [CollectorProcess.Cli, "report", .. arguments], TimeSpan.FromSeconds(60));

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith(expected, result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0]);
        if (what != "missing")
        {
            Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        Assert.DoesNotContain("   at ", result.Output);
        Assert.False(Directory.Exists(Out));
    }

    [Fact]
    public async Task Help_shows_an_example_and_what_a_line_means()
    {
        var result = await ProcessRunner.RunAsync("dotnet", [CollectorProcess.Cli, "report", "--help"], TimeSpan.FromSeconds(60));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("sl-images report --build-map buildmap.json --footprints", result.StdOut);
        Assert.Contains("each", result.StdOut);
        Assert.Contains("method has one \"line\", its first", result.StdOut);
    }

    /// <summary>
    /// App: Function.cs (Handle 10, Echo 20, the lambda 20, Fail 30) and Pricing.cs (Price 5); Lib:
    /// Math.cs (Add 3). run-1 ran Handle, Echo, Handle's lambda; run-2 (server route) ran Handle,
    /// Price and an id of another build.
    /// </summary>
    private async Task ArrangeAsync()
    {
        File.WriteAllText(BuildMap, BuildMaps.Json(
            ("App", "App.dll", [(Handle, "/src/App/Function.cs", 10, 18), (Echo, "/src/App/Function.cs", 20, 24), (Lambda, "/src/App/Function.cs", 20, 20), (Fail, "/src/App/Function.cs", 30, 31), (Price, "/src/App/Pricing.cs", 5, 9)]),
            ("Lib", "Lib.dll", [(LibAdd, "/src/Lib/Math.cs", 3, 3)])));
        await using var store = FootprintsStore.Open(Footprints);
        await store.AppendAsync(Record("run-1", FootprintsBodies.Document([Handle, Echo, Lambda], hits: [[0, 1], [2]])));
        await store.AppendAsync(Record(null, FootprintsBodies.Document([Handle, Price, "Other|Other.T|M()"], "run-2")));
    }

    private static StoredRecord Record(string? collectorExecution, JsonObject body)
    {
        using var document = System.Text.Json.JsonDocument.Parse(body.ToJsonString());
        return new StoredRecord(DateTimeOffset.UtcNow, collectorExecution is null ? "server" : "collector", "bsid-1", "lab-1", "agent-1", collectorExecution, "Functional Tests", document.RootElement.Clone());
    }

    private async Task<ProcessResult> ReportAsync(params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync("dotnet", [CollectorProcess.Cli, "report", "--build-map", BuildMap, "--footprints", Footprints, "--out", Out, .. arguments], TimeSpan.FromMinutes(2));
        output.WriteLine(result.Output);
        return result;
    }

    private static (int Methods, int Covered, double Percent) Counts(JsonNode node) => ((int)node["coverage"]!["methods"]!, (int)node["coverage"]!["covered"]!, (double)node["coverage"]!["percent"]!);
}
