using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Sealights.Images.Testing;

namespace Sealights.Images.Bench;

/// <summary>Precision and recall of one build flavour, as a test measured and printed them.</summary>
internal sealed record Accuracy(double Precision, double Recall);

/// <summary>P5 of one collection mode: precision/recall per build flavour and whether warm attribution was exact.</summary>
internal sealed record ModeAccuracy(Accuracy? Jit, Accuracy? ReadyToRun, bool? WarmExact, string WarmNote);

/// <summary>
/// P5 is not re-implemented here: the tests that hold each fixture's ground truth measure it. The
/// bench runs them (`dotnet test` with a TRX logger) and reads the figures they print and their
/// outcomes, so the report and the test suite cannot disagree on what "exact" means.
/// </summary>
internal static partial class AccuracyFigures
{
    public static async Task<(ModeAccuracy FirstExecution, ModeAccuracy Probes)> MeasureAsync(TextWriter log)
    {
        var agent = await RunTestsAsync("Sealights.Lambda.Agent.Tests",
            "FullyQualifiedName~AccuracyTests.JitBuild|FullyQualifiedName~AccuracyTests.ReadyToRunBuild|FullyQualifiedName~InstrumentedAccuracyTests.Instrumented", log);
        var warm = await RunTestsAsync("Sealights.Images.IntegrationTests",
            "FullyQualifiedName~WarmAttributionTests.Each_warm_invocation_reports_exactly", log);

        var firstExecution = new ModeAccuracy(
            Find(agent, FirstExecutionLine(), "JIT"),
            Find(agent, FirstExecutionLine(), "R2R"),
            false,
            "first-execution mode reports each method once per process (its first execution), by design not per warm invocation");
        var warmResults = warm.Where(r => r.Name.Contains("Each_warm_invocation", StringComparison.Ordinal)).ToList();
        var probes = new ModeAccuracy(
            Find(agent, ProbeLine(), "JIT"),
            Find(agent, ProbeLine(), "ReadyToRun"),
            warmResults.Count == 0 ? null : warmResults.All(r => r.Outcome == "Passed"),
            warmResults.Count == 0
                ? "WarmAttributionTests did not run"
                : $"{warmResults.Count(r => r.Outcome == "Passed")} of {warmResults.Count} builds (net10.0/net8.0, JIT/R2R) exact for every warm invocation of A, B, A, C, B");
        return (firstExecution, probes);
    }

    private static Accuracy? Find(IReadOnlyList<TestResult> results, Regex line, string flavor)
    {
        foreach (var result in results.Where(r => r.Outcome == "Passed"))
        {
            foreach (Match match in line.Matches(result.Output))
            {
                if (match.Groups["flavor"].Value == flavor)
                {
                    return new Accuracy(
                        double.Parse(match.Groups["precision"].Value, CultureInfo.InvariantCulture),
                        double.Parse(match.Groups["recall"].Value, CultureInfo.InvariantCulture));
                }
            }
        }

        // A failed or missing test has no figure: the report says so rather than a number.
        return null;
    }

    private static async Task<IReadOnlyList<TestResult>> RunTestsAsync(string project, string filter, TextWriter log)
    {
        var results = Directory.CreateTempSubdirectory("sl-bench-trx-");
        try
        {
            log.WriteLine($"P5: dotnet test {project} --filter \"{filter}\"");
            var run = await ProcessRunner.RunAsync("dotnet",
                ["test", RepositoryPaths.Combine("tests", project), "-c", "Release", "--filter", filter, "--logger", "trx;LogFileName=results.trx", "--results-directory", results.FullName],
                TimeSpan.FromMinutes(30));
            var trx = Directory.EnumerateFiles(results.FullName, "*.trx", SearchOption.AllDirectories).FirstOrDefault();
            if (trx is null)
            {
                log.WriteLine($"P5: {project} wrote no results (exit {run.ExitCode}):\n{run.Output}");
                return [];
            }

            XNamespace ns = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
            var parsed = XDocument.Load(trx).Descendants(ns + "UnitTestResult")
                .Select(r => new TestResult(
                    (string?)r.Attribute("testName") ?? "",
                    (string?)r.Attribute("outcome") ?? "",
                    (string?)r.Element(ns + "Output")?.Element(ns + "StdOut") ?? ""))
                .ToList();
            foreach (var result in parsed)
            {
                log.WriteLine($"P5: {result.Outcome,-7} {result.Name}");
            }

            return parsed;
        }
        finally
        {
            results.Delete(recursive: true);
        }
    }

    private sealed record TestResult(string Name, string Outcome, string Output);

    // Printed by AccuracyTests: "JIT (first-execution mode): precision 0.97 recall 1.00 …".
    [GeneratedRegex(@"(?<flavor>JIT|R2R) \(first-execution mode\): precision (?<precision>[0-9.]+),? recall (?<recall>[0-9.]+)")]
    private static partial Regex FirstExecutionLine();

    // Printed by InstrumentedAccuracyTests: "instrumented ReadyToRun build, inlining on: precision 1.00 recall 1.00 …".
    [GeneratedRegex(@"instrumented (?<flavor>JIT|ReadyToRun) build, inlining on: precision (?<precision>[0-9.]+),? recall (?<recall>[0-9.]+)")]
    private static partial Regex ProbeLine();
}
