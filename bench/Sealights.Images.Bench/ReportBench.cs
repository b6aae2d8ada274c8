using System.Globalization;
using Sealights.Images.Testing;

namespace Sealights.Images.Bench;

/// <summary>
/// "report": the product's figures in one run, written as bench/results/latest.md and latest.json
/// (and PNG plots with --plots). For each CPU setting (unconstrained, --cpus 1, --cpus 0.5 by
/// default) the sample function runs as
/// <list type="bullet">
/// <item><c>off</c>: the plain function on the stand-in AWS base (what the user had before);</item>
/// <item><c>on</c>: on the coverage-ready image with a token, first-execution mode (default flush interval);</item>
/// <item><c>on/every</c>: the same, flushed after every invocation (first-execution mode's per-invocation flush);</item>
/// <item><c>on/probes</c>: the function instrumented (compiled-in probes), probe mode: a harvest at every invocation's end, sent at the default interval;</item>
/// <item><c>on/probes/every</c>: the same, each invocation's harvest sent right after it (what P3's "a flush after each" means for this mode).</item>
/// </list>
/// Cold starts are interleaved across rows (order reversed every other round), then one warm
/// container per row. P5 comes from the tests that hold the fixtures' ground truth
/// (<see cref="AccuracyFigures"/>), P6 from the images themselves (<see cref="ImageSizes"/>).
/// </summary>
internal static class ReportBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var cold = 10;
        var warm = 200;
        string[] cpuSettings = ["none", "1", "0.5"];
        var output = RepositoryPaths.Combine("bench", "results");
        var plots = false;
        var accuracy = true;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--cold": cold = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--warm": warm = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--cpus": cpuSettings = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
                case "--out": output = Path.GetFullPath(Value()); break;
                case "--plots": plots = true; break;
                case "--accuracy": accuracy = Value() != "false"; break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]} (report [--cold N] [--warm M] [--cpus none,1,0.5] [--out DIR] [--plots] [--accuracy false])");
                    return 2;
            }
        }

        if (cold < 1 || warm < 1)
        {
            Console.Error.WriteLine("--cold and --warm must be at least 1");
            return 2;
        }

        var machine = await MachineFacts.ReadAsync();
        Console.WriteLine($"report: {cold} cold starts and {warm} warm invocations per row, CPU settings {string.Join(", ", cpuSettings)}; load average at start {machine.LoadAtStart}");

        await StandInImages.EnsureBaseImagesAsync();
        var baseImage = StandInImages.Base("10");
        var coverageImage = await CoverageImages.BuildAsync(baseImage);
        var plain = await StandInImages.BuildSampleAsync("net10.0");
        var covered = await StandInImages.BuildSampleAsync("net10.0", coverageImage);
        var probed = await StandInImages.BuildInstrumentedSampleAsync("net10.0", coverageImage);

        var backendPort = FreePorts.Next();
        var token = SealightsTokens.Create($"http://127.0.0.1:{backendPort}/api");
        var records = Directory.CreateTempSubdirectory("sl-bench-report-");
        var runs = new List<CpuRun>();
        await using (var backend = await TestBackendProcess.StartAsync(records.FullName, backendPort, token, "bench-execution"))
        {
            var delivering = new Dictionary<string, string> { ["SL_TOKEN"] = token, ["SL_BUILD_SESSION_ID"] = "bench-bsid" };
            foreach (var setting in cpuSettings)
            {
                var configurations = new List<Configuration>
                {
                    new("off", plain, new Dictionary<string, string>()),
                    new("on", covered, delivering),
                    new("on/every", covered, new Dictionary<string, string>(delivering) { ["SL_FLUSH_INTERVAL_SECONDS"] = "0" }),
                    new("on/probes", probed, delivering),
                    new("on/probes/every", probed, new Dictionary<string, string>(delivering) { ["SL_FLUSH_INTERVAL_SECONDS"] = "0" }),
                };
                string[] runArguments = Rounds.RunArguments(setting);
                Console.WriteLine($"{CpuRun.Label(setting)}: {cold} interleaved cold rounds of {string.Join(", ", configurations.Select(c => c.Name))}");
                await Rounds.ColdAsync(configurations, cold, runArguments);
                Console.WriteLine($"{CpuRun.Label(setting)}: {warm} warm invocations per row");
                await Rounds.WarmAsync(configurations, warm, runArguments);
                runs.Add(new CpuRun(setting, configurations));
            }

            Console.WriteLine($"backend: {backend.FootprintsRecords().Count} footprints requests accepted, {backend.DeliveredMethods().Count} method hits delivered");
            await backend.StopAsync();
        }

        records.Delete(recursive: true);

        var sizes = new SizeFigures(
            await ImageSizes.AddedCompressedBytesAsync(coverageImage, baseImage),
            await ImageSizes.BytesAsync(probed) - await ImageSizes.BytesAsync(covered));
        var (firstExecution, probes) = accuracy
            ? await AccuracyFigures.MeasureAsync(Console.Out)
            : (Skipped(), Skipped());

        machine = machine with { LoadAtEnd = await MachineFacts.LoadAverageAsync() };
        var report = new BenchReport(machine, cold, warm, runs, sizes, firstExecution, probes);
        Directory.CreateDirectory(output);
        var markdown = report.Markdown();
        await File.WriteAllTextAsync(Path.Combine(output, "latest.md"), markdown);
        await File.WriteAllTextAsync(Path.Combine(output, "latest.json"), report.Json());
        if (plots)
        {
            foreach (var file in BenchPlots.Write(output, runs))
            {
                Console.WriteLine($"plot: {file}");
            }
        }

        Console.WriteLine();
        Console.WriteLine(markdown);
        Console.WriteLine($"written: {Path.Combine(output, "latest.md")}, {Path.Combine(output, "latest.json")}");
        return 0;

        static ModeAccuracy Skipped() => new(null, null, null, "not measured (--accuracy false)");
    }
}

/// <summary>The rows of one CPU setting, measured together.</summary>
internal sealed record CpuRun(string Setting, IReadOnlyList<Configuration> Rows)
{
    public Configuration Row(string name) => Rows.Single(r => r.Name == name);

    public string Cpus => Setting == "none" ? "unconstrained" : Setting;

    public static string Label(string setting) => setting == "none" ? "unconstrained" : $"--cpus {setting}";
}

/// <summary>P6 inputs: bytes the coverage-ready image adds to its base (gzip), and what instrumentation adds to the function's image.</summary>
internal sealed record SizeFigures(long CoverageLayersCompressedBytes, long InstrumentedAppDeltaBytes);
