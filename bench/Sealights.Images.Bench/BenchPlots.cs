using ScottPlot;

namespace Sealights.Images.Bench;

/// <summary>
/// "report --plots": the distributions behind the medians, one PNG per CPU setting and measure
/// (init duration, warm caller latency) as empirical CDFs, one line per row: a tail or a
/// bimodal start shows there and nowhere in a table.
/// </summary>
internal static class BenchPlots
{
    public static IEnumerable<string> Write(string directory, IReadOnlyList<CpuRun> runs)
    {
        foreach (var run in runs)
        {
            var label = run.Setting == "none" ? "unconstrained" : $"cpus-{run.Setting}";
            yield return Cdf(Path.Combine(directory, $"init-{label}.png"), $"Init Duration, {run.Cpus} CPUs", "Init Duration (ms)", run.Rows.Select(r => (r.Name, r.InitMs)));
            yield return Cdf(Path.Combine(directory, $"warm-{label}.png"), $"Warm caller latency, {run.Cpus} CPUs", "caller latency (ms)", run.Rows.Select(r => (r.Name, r.WarmLatencyMs)));
        }
    }

    private static string Cdf(string file, string title, string axis, IEnumerable<(string Name, List<double> Samples)> rows)
    {
        var plot = new Plot();
        foreach (var (name, samples) in rows)
        {
            var sorted = samples.Where(s => !double.IsNaN(s)).Order().ToArray();
            if (sorted.Length == 0)
            {
                continue;
            }

            var fractions = Enumerable.Range(1, sorted.Length).Select(i => (double)i / sorted.Length).ToArray();
            var line = plot.Add.Scatter(sorted, fractions);
            line.LegendText = name;
            line.MarkerSize = sorted.Length <= 50 ? 4 : 0;
        }

        plot.Title(title);
        plot.XLabel(axis);
        plot.YLabel("fraction of samples ≤ x");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(file, 900, 540);
        return file;
    }
}
