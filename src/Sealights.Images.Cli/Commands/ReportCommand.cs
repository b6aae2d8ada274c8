using System.CommandLine;
using System.Reflection;
using System.Text;
using Sealights.Coverage.BuildMaps;
using Sealights.Images.Cli.Collector;
using Sealights.Images.Cli.Reports;

namespace Sealights.Images.Cli.Commands;

/// <summary>
/// <c>sl-images report --build-map F --footprints DIR</c>: method coverage of the footprints
/// <c>sl-images collect</c> stored, per assembly, file, class and method, in the formats asked for.
/// </summary>
public static class ReportCommand
{
    public static readonly string[] Formats = ["summary", "cobertura", "lcov", "json", "html"];

    public const string CoberturaFile = "coverage.cobertura.xml";
    public const string LcovFile = "lcov.info";
    public const string JsonFile = "coverage.json";
    public const string HtmlFolder = "html";
    public const string ExecutionsFolder = "executions";

    public static Command Create()
    {
        var buildMaps = new Option<FileInfo[]>("--build-map") { Description = "the build map (sl-images scan) of the code under test (repeatable)", Required = true };
        var footprints = new Option<DirectoryInfo>("--footprints") { Description = "the folder sl-images collect stored footprints in (its --out)", Required = true };
        var format = new Option<string>("--format") { Description = "comma-separated: summary, cobertura, lcov, json, html", DefaultValueFactory = _ => "summary" };
        var output = new Option<DirectoryInfo>("--out") { Description = "where files go (cobertura, lcov, json, html)", DefaultValueFactory = _ => new DirectoryInfo("coverage-report") };
        var byExecution = new Option<bool>("--by-execution") { Description = "also one report per test execution (in OUT/executions/ID/, and a table in the summary)" };
        var reportGenerator = new Option<FileInfo?>("--reportgenerator") { Description = "the reportgenerator executable for html (default: on PATH or in ~/.dotnet/tools)" };
        var command = new Command("report", "method coverage from collected footprints: summary, Cobertura, LCOV, JSON, HTML")
        {
            buildMaps, footprints, format, output, byExecution, reportGenerator,
        };
        command.WithExample("""
            Example:
              sl-images report --build-map buildmap.json --footprints coverage/footprints \
                --format summary,cobertura,lcov,html --out coverage/report --by-execution

            Footprints say which methods ran, not which lines: in the Cobertura and LCOV files each
            method has one "line", its first, covered when the method ran.
            """);
        command.SetAction((parse, cancellationToken) => OneLineOnFailure.RunAsync("report", () => RunAsync(
            new ReportRequest(parse.GetValue(buildMaps) ?? [], parse.GetValue(footprints)!, parse.GetValue(format)!, parse.GetValue(output)!, parse.GetValue(byExecution), parse.GetValue(reportGenerator)),
            Console.Out, Console.Error, cancellationToken)));
        return command;
    }

    public static async Task<int> RunAsync(ReportRequest request, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var formats = request.Format.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(f => f.ToLowerInvariant()).ToHashSet();
        var unknownFormat = formats.FirstOrDefault(f => !Formats.Contains(f));
        if (formats.Count == 0 || unknownFormat is not null)
        {
            stderr.WriteLine($"sl-images report: --format {request.Format}: {(unknownFormat is null ? "no format" : $"unknown format '{unknownFormat}'")}; expected a comma-separated list of {string.Join(", ", Formats)}");
            return ExitCodes.InvalidInput;
        }
        if (!request.Footprints.Exists)
        {
            stderr.WriteLine($"sl-images report: --footprints {request.Footprints.FullName}: no such folder (the --out folder of sl-images collect)");
            return ExitCodes.InvalidInput;
        }
        var maps = new List<BuildMap>();
        foreach (var file in request.BuildMaps)
        {
            if (BuildMapFile.Read("report", file, stderr) is not { } map)
            {
                return ExitCodes.InvalidInput;
            }
            maps.Add(map);
        }
        string? tool = null;
        if (formats.Contains("html") && (tool = ReportGeneratorTool.Find(request.ReportGenerator?.FullName)) is null)
        {
            stderr.WriteLine($"sl-images report: --format html needs ReportGenerator, not found{(request.ReportGenerator is null ? "" : $" at {request.ReportGenerator.FullName}")}; {ReportGeneratorTool.InstallHint}");
            return ExitCodes.InvalidInput;
        }

        // Progress only for people: on a terminal, overwritten in place, cleared when done.
        var terminal = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;
        var shown = false;
        var (records, unreadable) = FootprintsStoreReader.Read(request.Footprints.FullName, terminal ? lines =>
        {
            shown = true;
            stderr.Write($"\rsl-images report: reading footprints... {lines} requests");
        } : null);
        if (shown)
        {
            stderr.Write("\r\u001b[K");
        }
        if (unreadable > 0)
        {
            stderr.WriteLine($"sl-images report: {unreadable} line(s) in {request.Footprints.FullName} are not stored requests (torn by a crash, or not written by sl-images collect); skipped");
        }
        var counter = new FootprintsHitCounter();
        foreach (var record in records)
        {
            counter.Add(record);
        }
        if (counter.Invalid.Count > 0)
        {
            stderr.WriteLine($"sl-images report: {counter.Invalid.Count} stored request(s) are not footprints documents, skipped (first: {counter.Invalid[0]})");
        }
        if (counter.Requests == 0)
        {
            stderr.WriteLine($"sl-images report: no footprints in {request.Footprints.FullName}: every method is reported uncovered");
        }

        var generatedBy = $"sl-images {Version()}";
        var all = CoverageReport.Create("all executions", null, maps, counter.All, counter.Requests);
        var executions = request.ByExecution
            ? counter.ExecutionOrder.Select(id => CoverageReport.Create(id, id, maps, counter.ByExecution[id].Hits, counter.ByExecution[id].Requests)).ToList()
            : [];

        var written = new List<string>();
        try
        {
            if (formats.Overlaps(["cobertura", "lcov", "json", "html"]))
            {
                request.Output.Create();
                if (await WriteFilesAsync(request.Output.FullName, all, executions, formats, tool, generatedBy, written, stderr, cancellationToken) is { } failed)
                {
                    return failed;
                }
                var usedNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                foreach (var execution in executions)
                {
                    var folder = Path.Combine(request.Output.FullName, ExecutionsFolder, FolderName(execution.Title, usedNames));
                    Directory.CreateDirectory(folder);
                    if (await WriteFilesAsync(folder, execution, [], formats, tool, generatedBy, written, stderr, cancellationToken) is { } executionFailed)
                    {
                        return executionFailed;
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"sl-images report: --out {request.Output.FullName}: cannot write the report ({e.Message})");
            return ExitCodes.InvalidInput;
        }

        if (formats.Contains("summary"))
        {
            SummaryWriter.Write(stdout, all, executions);
        }
        if (written.Count > 0)
        {
            stderr.WriteLine($"sl-images report: wrote {string.Join(", ", written)}");
        }
        return ExitCodes.Success;
    }

    private static async Task<int?> WriteFilesAsync(string folder, CoverageReport report, IReadOnlyList<CoverageReport> executions, HashSet<string> formats, string? tool, string generatedBy, List<string> written, TextWriter stderr, CancellationToken cancellationToken)
    {
        var cobertura = Path.Combine(folder, CoberturaFile);
        if (formats.Contains("cobertura") || formats.Contains("html"))
        {
            CoberturaWriter.Write(cobertura, report, generatedBy);
            if (formats.Contains("cobertura"))
            {
                written.Add(cobertura);
            }
        }
        if (formats.Contains("lcov"))
        {
            var lcov = Path.Combine(folder, LcovFile);
            LcovWriter.Write(lcov, report);
            written.Add(lcov);
        }
        if (formats.Contains("json"))
        {
            var json = Path.Combine(folder, JsonFile);
            await using (var stream = File.Create(json))
            {
                JsonReportWriter.Write(stream, report, executions, generatedBy);
            }
            written.Add(json);
        }
        if (formats.Contains("html"))
        {
            var html = Path.Combine(folder, HtmlFolder);
            var title = report.ExecutionId is null ? "Method coverage (sl-images)" : $"Method coverage, execution {report.ExecutionId} (sl-images)";
            var problem = await ReportGeneratorTool.RunAsync(tool!, cobertura, html, title, cancellationToken);
            if (!formats.Contains("cobertura"))
            {
                File.Delete(cobertura);
            }
            if (problem is not null)
            {
                stderr.WriteLine($"sl-images report: the HTML report was not made: {problem}");
                return ExitCodes.Finding;
            }
            written.Add(Path.Combine(html, "index.html"));
        }
        return null;
    }

    // An execution id as a folder name: unsafe characters replaced, distinct after replacement.
    private static string FolderName(string executionId, HashSet<string> used)
    {
        var name = new StringBuilder();
        foreach (var c in executionId)
        {
            name.Append(char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        }
        var candidate = name.Length == 0 || name.ToString().Trim('.').Length == 0 ? "execution" : name.ToString();
        var unique = candidate;
        for (var i = 2; !used.Add(unique); i++)
        {
            unique = $"{candidate}-{i}";
        }
        return unique;
    }

    private static string Version() =>
        typeof(ReportCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}

/// <summary>What <c>sl-images report</c> was asked for.</summary>
public sealed record ReportRequest(FileInfo[] BuildMaps, DirectoryInfo Footprints, string Format, DirectoryInfo Output, bool ByExecution, FileInfo? ReportGenerator);
