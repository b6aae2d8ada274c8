using System.Diagnostics;
using System.Globalization;
using Sealights.Images.Testing;

namespace Sealights.Images.Bench;

/// <summary>
/// <c>stress</c>: many enabled cold starts of the sample function on the coverage-ready image,
/// beside a CPU load, each in a fresh container (a fresh environment: launcher, agent, status
/// file). Counts the starts whose runtime was not traced or whose hits were empty, and what the
/// log said about each. The race this hunts (the wrapper reading the agent's verdict half-written)
/// showed up about once in 70 starts.
/// With <c>--baseline &lt;git-ref&gt;</c> the starts alternate with that revision's coverage image
/// (as many again), so the same load shows whether a change made a difference.
/// Usage: stress [--starts N] [--parallel P] [--load L] [--baseline &lt;git-ref&gt;]
/// </summary>
internal static class ColdStartStress
{
    private const string Payload = """{"action":"quote","items":[{"sku":"A","qty":2},{"sku":"B","qty":12}],"coupon":"TEN"}""";

    public static async Task<int> RunAsync(string[] args)
    {
        var starts = 300;
        var parallel = 2;
        var load = 2;
        string? baseline = null;
        for (var i = 0; i < args.Length - 1; i += 2)
        {
            switch (args[i])
            {
                case "--starts": starts = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--parallel": parallel = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--load": load = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--baseline": baseline = args[i + 1]; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}; usage: stress [--starts N] [--parallel P] [--load L] [--baseline <git-ref>]"); return 2;
            }
        }

        await StandInImages.EnsureBaseImagesAsync();
        var images = new List<(string Name, string Image)>
        {
            ("this revision", await StandInImages.BuildSampleAsync("net10.0", await CoverageImages.BuildAsync(StandInImages.Base("10")))),
        };
        if (baseline is not null)
        {
            images.Add(($"baseline {baseline}", await StandInImages.BuildSampleAsync("net10.0", await BaselineCoverageImage.BuildAsync(baseline, StandInImages.Base("10")))));
        }
        var total = starts * images.Count;
        var token = SealightsTokens.Create();
        var results = new List<StartResult>();
        var busy = StartLoad(load);
        var clock = Stopwatch.StartNew();
        try
        {
            var next = 0;
            var workers = Enumerable.Range(0, parallel).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) is var n && n <= total)
                {
                    var (name, image) = images[n % images.Count];
                    var result = await OneStartAsync(name, image, token);
                    lock (results)
                    {
                        results.Add(result);
                        if (!result.Covered)
                        {
                            Console.WriteLine($"start {n} ({name}): WITHOUT COVERAGE (answered {result.Answered}, traced {result.Traced}, {result.Methods} methods); log:\n{result.Log}");
                        }
                        else if (results.Count % 25 == 0)
                        {
                            Console.WriteLine($"{results.Count}/{total} starts, {results.Count(r => !r.Covered)} without coverage so far ({clock.Elapsed.TotalSeconds:0} s)");
                        }
                    }
                }
            });
            await Task.WhenAll(workers);
        }
        finally
        {
            foreach (var process in busy)
            {
                process.Kill();
                process.Dispose();
            }
        }

        Console.WriteLine($"{clock.Elapsed.TotalSeconds:0} s; {parallel} starts at a time beside {load} busy loops on {Environment.ProcessorCount} cores");
        foreach (var (name, _) in images)
        {
            var mine = results.Where(r => r.Image == name).ToList();
            var methods = mine.Select(r => (double)r.Methods).ToList();
            var init = mine.Select(r => r.InitMs).Where(v => !double.IsNaN(v)).ToList();
            Console.WriteLine(
                $"{name}: {mine.Count} enabled cold starts: {mine.Count(r => r.Traced)} traced, {mine.Count(r => r.Methods > 0)} with hits, "
                + $"{mine.Count(r => !r.Covered)} without coverage, {mine.Count(r => !r.Answered)} function errors, {mine.Count(r => r.UntracedLines > 0)} with an 'untraced' line; "
                + $"methods per start min {methods.DefaultIfEmpty(0).Min():0} median {Statistics.Median(methods):0} max {methods.DefaultIfEmpty(0).Max():0}; "
                + $"init p50 {Statistics.Median(init):0.0} ms, p99 {Statistics.Percentile(init, 99):0.0} ms");
        }
        var current = results.Where(r => r.Image == images[0].Name).ToList();
        return current.Count == starts && current.All(r => r.Covered) ? 0 : 1;
    }

    private static async Task<StartResult> OneStartAsync(string name, string image, string token)
    {
        var output = Directory.CreateTempSubdirectory("sl-stress-");
        try
        {
            await using var container = await LambdaContainer.StartAsync(
                image,
                new Dictionary<string, string> { ["SL_TOKEN"] = token, ["SL_DEBUG_HITS_FILE"] = "/sl-out/hits.jsonl" },
                ["--volume", $"{output.FullName}:/sl-out"]);
            var answer = await container.InvokeAsync(Payload, TimeSpan.FromSeconds(60));
            await container.StopAsync();
            var logs = await container.LogsAsync();
            var hitsFile = Path.Combine(output.FullName, "hits.jsonl");
            var methods = File.Exists(hitsFile) ? DebugHitsFile.Read(hitsFile).Count : 0;
            var report = ReportLine.ParseAll(logs).FirstOrDefault();
            return new StartResult(
                name,
                answer.StatusCode == 200 && answer.FunctionError is null,
                logs.Contains("the function's runtime connected", StringComparison.Ordinal),
                methods,
                logs.Split('\n').Count(l => l.Contains("runs without coverage", StringComparison.Ordinal) || l.Contains("did not connect to the agent", StringComparison.Ordinal)),
                report?.InitDurationMs ?? double.NaN,
                logs);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    /// <summary>Busy loops in their own processes, so the containers start on cores that are never idle.</summary>
    private static List<Process> StartLoad(int count) =>
        [.. Enumerable.Range(0, count).Select(_ => Process.Start(new ProcessStartInfo("/bin/bash", ["-c", "while :; do :; done"]) { UseShellExecute = false })!)];

    private sealed record StartResult(string Image, bool Answered, bool Traced, int Methods, int UntracedLines, double InitMs, string Log)
    {
        public bool Covered => Answered && Traced && Methods > 0 && UntracedLines == 0;
    }
}
