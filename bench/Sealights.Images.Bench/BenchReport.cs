using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sealights.Images.Bench;

/// <summary>
/// The "report" verb's figures P1–P6 per collection mode and CPU setting, with the goals beside
/// them: rendered as markdown for people and as JSON for tools. Computes nothing it did not measure:
/// a missing figure is null in JSON and "-" in markdown.
/// </summary>
internal sealed class BenchReport(MachineFacts machine, int cold, int warm, IReadOnlyList<CpuRun> runs, SizeFigures sizes, ModeAccuracy firstExecution, ModeAccuracy probes)
{
    // The goals of the product (issue 19), in the units of the figures.
    private const double InitOverheadGoalMs = 5;
    private const double InitRatioGoal = 1.05;
    private const double WarmP50GoalMs = 0.5;
    private const double WarmP99GoalMs = 2;
    private const double PostRuntimeGoalMs = 5;
    private const double AgentRssGoalMb = 16;
    private const double LayerGoalMb = 5;

    private sealed record Mode(string Name, string Row, string PerInvocationRow, ModeAccuracy Accuracy);

    private IEnumerable<Mode> Modes =>
    [
        new("first-execution", "on", "on/every", firstExecution),
        new("probes", "on/probes", "on/probes/every", probes),
    ];

    private sealed record Entry(Mode Mode, CpuRun Run)
    {
        public Configuration Off => Run.Row("off");
        public Configuration Measured => Run.Row(Mode.Row);
        public Configuration PerInvocation => Run.Row(Mode.PerInvocationRow);
        public double InitOverhead => Statistics.Median(Measured.InitMs) - Statistics.Median(Off.InitMs);
        public double InitRatio => Statistics.Median(Measured.InitMs) / Statistics.Median(Off.InitMs);
        public double InitPaired => Statistics.MedianOfDifferences(Measured.InitMs, Off.InitMs);
        public double WarmP50Delta => Statistics.Percentile(Measured.WarmLatencyMs, 50) - Statistics.Percentile(Off.WarmLatencyMs, 50);
        public double WarmP99Delta => Statistics.Percentile(Measured.WarmLatencyMs, 99) - Statistics.Percentile(Off.WarmLatencyMs, 99);
        public double PostRuntimeMedian => Statistics.Median(PerInvocation.PostRuntimeMs);
        public double PostRuntimeP99 => Statistics.Percentile(PerInvocation.PostRuntimeMs, 99);
        public double AgentRss => Statistics.Median(Measured.AgentRssMb);
        public double MemoryDelta => Statistics.Median(Measured.MemoryMb) - Statistics.Median(Off.MemoryMb);
    }

    private IEnumerable<Entry> Entries => Modes.SelectMany(mode => runs.Select(run => new Entry(mode, run)));

    private double LayerMb => sizes.CoverageLayersCompressedBytes / 1024.0 / 1024.0;

    private double AppDeltaMb => sizes.InstrumentedAppDeltaBytes / 1024.0 / 1024.0;

    public string Json()
    {
        var machineNode = new JsonObject
        {
            ["cpu"] = machine.Cpu,
            ["cores"] = machine.Cores,
            ["memory_gb"] = machine.MemoryGb,
            ["kernel"] = machine.Kernel,
            ["docker"] = machine.Docker,
            ["load_average_start"] = machine.LoadAtStart,
            ["load_average_end"] = machine.LoadAtEnd,
        };
        var entries = new JsonArray();
        foreach (var e in Entries)
        {
            entries.Add(new JsonObject
            {
                ["mode"] = e.Mode.Name,
                ["cpus"] = e.Run.Cpus,
                ["rows"] = new JsonObject { ["measured"] = e.Mode.Row, ["per_invocation_flush"] = e.Mode.PerInvocationRow, ["baseline"] = "off" },
                ["P1"] = new JsonObject { ["overhead_ms_median"] = Num(e.InitOverhead), ["ratio_median"] = Num(e.InitRatio, 3), ["paired_overhead_ms_median"] = Num(e.InitPaired), ["off_ms_median"] = Num(Statistics.Median(e.Off.InitMs)), ["n"] = e.Measured.InitMs.Count },
                ["P2"] = new JsonObject { ["p50_delta_ms"] = Num(e.WarmP50Delta), ["p99_delta_ms"] = Num(e.WarmP99Delta), ["cpus"] = e.Run.Cpus, ["n"] = e.Measured.WarmLatencyMs.Count },
                ["P3"] = new JsonObject { ["median_ms"] = Num(e.PostRuntimeMedian), ["p99_ms"] = Num(e.PostRuntimeP99), ["n"] = e.PerInvocation.PostRuntimeMs.Count },
                ["P4"] = new JsonObject { ["peak_rss_mb"] = Num(e.AgentRss), ["max_memory_used_delta_mb"] = Num(e.MemoryDelta) },
                ["P5"] = AccuracyNode(e.Mode.Accuracy),
                ["P6"] = new JsonObject { ["layer_mb_compressed"] = Num(LayerMb, 3), ["app_delta_mb"] = e.Mode.Name == "probes" ? Num(AppDeltaMb, 3) : 0 },
                ["machine"] = machineNode.DeepClone(),
                ["date"] = machine.Date.ToString("O", CultureInfo.InvariantCulture),
                ["revision"] = machine.Revision,
            });
        }

        var root = new JsonObject
        {
            ["machine"] = machineNode,
            ["date"] = machine.Date.ToString("O", CultureInfo.InvariantCulture),
            ["revision"] = machine.Revision,
            ["cold_starts_per_row"] = cold,
            ["warm_invocations_per_row"] = warm,
            ["goals"] = new JsonObject
            {
                ["P1"] = new JsonObject { ["overhead_ms_median"] = InitOverheadGoalMs, ["ratio_median"] = InitRatioGoal, ["mode"] = "probes" },
                ["P2"] = new JsonObject { ["p50_delta_ms"] = WarmP50GoalMs, ["p99_delta_ms"] = WarmP99GoalMs, ["cpus"] = "1" },
                ["P3"] = new JsonObject { ["median_ms"] = PostRuntimeGoalMs },
                ["P4"] = new JsonObject { ["peak_rss_mb"] = AgentRssGoalMb },
                ["P5"] = new JsonObject { ["precision"] = 1.0, ["recall"] = 1.0, ["warm_exact"] = true },
                ["P6"] = new JsonObject { ["layer_mb_compressed"] = LayerGoalMb },
            },
            ["entries"] = entries,
        };
        // Relaxed escaping: people read this file ("+", "<" as themselves, not \u002B).
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    public string Markdown()
    {
        var md = new StringBuilder();
        md.AppendLine($"# Bench report {machine.Date:yyyy-MM-dd HH:mm} UTC, revision {machine.Revision}");
        md.AppendLine();
        md.AppendLine($"Machine: {machine.Cpu}, {machine.Cores} cores, {machine.MemoryGb} GB, kernel {machine.Kernel}, Docker {machine.Docker}; load average {machine.LoadAtStart} at start, {machine.LoadAtEnd} at the end. "
            + $"{cold} cold starts per row (interleaved, order reversed every other round) and {warm} warm invocations per row, per CPU setting. "
            + "Rows: `off` the plain function on the stand-in AWS base; `on` the coverage-ready image with a token (first-execution mode); "
            + "`on/every` the same flushed after every invocation; `on/probes` the instrumented function (probe mode: each invocation harvested at its end, sent at the default interval); `on/probes/every` the same, sent after every invocation. Wall-clock figures compare within this run only.");
        md.AppendLine();
        md.AppendLine("| mode | CPUs | P1 init overhead, median (paired) / ratio | P2 warm caller Δ p50 / p99 | P3 post-runtime per invocation, median (p99) | P4 agent RSS / Max Memory Used Δ | P5 JIT P/R · R2R P/R · warm exact | P6 layer (gzip) / instrumented app Δ |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var e in Entries)
        {
            md.AppendLine($"| {e.Mode.Name} | {e.Run.Cpus} | {Ms(e.InitOverhead)} ({Ms(e.InitPaired)}) / {Ratio(e.InitRatio)} | {Ms(e.WarmP50Delta)} / {Ms(e.WarmP99Delta)} | {Ms(e.PostRuntimeMedian)} ({Ms(e.PostRuntimeP99)}) | {Mb(e.AgentRss)} / {Mb(e.MemoryDelta)} | {AccuracyText(e.Mode.Accuracy)} | {Mb(LayerMb)} MB / {(e.Mode.Name == "probes" ? $"{sizes.InstrumentedAppDeltaBytes / 1024.0:0} KB" : "0")} |");
        }

        md.AppendLine();
        md.AppendLine("## Goals");
        md.AppendLine();
        md.AppendLine("| goal | where | figure | verdict |");
        md.AppendLine("|---|---|---|---|");
        foreach (var e in Entries.Where(e => e.Mode.Name == "probes"))
        {
            md.AppendLine(Goal("P1 init ≤ +5 ms", e, $"{Ms(e.InitOverhead)} ms", e.InitOverhead, InitOverheadGoalMs, "ms"));
            md.AppendLine(Goal("P1 init ≤ 1.05×", e, Ratio(e.InitRatio), e.InitRatio, InitRatioGoal, "×"));
        }

        foreach (var e in Entries.Where(e => e.Run.Setting == "1"))
        {
            md.AppendLine(Goal("P2 warm Δ p50 ≤ 0.5 ms", e, $"{Ms(e.WarmP50Delta)} ms", e.WarmP50Delta, WarmP50GoalMs, "ms"));
            md.AppendLine(Goal("P2 warm Δ p99 ≤ 2 ms", e, $"{Ms(e.WarmP99Delta)} ms", e.WarmP99Delta, WarmP99GoalMs, "ms"));
        }

        foreach (var e in Entries)
        {
            md.AppendLine(Goal("P3 post-runtime ≤ 5 ms", e, $"{Ms(e.PostRuntimeMedian)} ms (`{e.Mode.PerInvocationRow}`)", e.PostRuntimeMedian, PostRuntimeGoalMs, "ms"));
            md.AppendLine(Goal("P4 agent RSS ≤ 16 MB", e, $"{Mb(e.AgentRss)} MB", e.AgentRss, AgentRssGoalMb, "MB"));
        }

        foreach (var mode in Modes)
        {
            md.AppendLine($"| P5 1.00/1.00, warm exact | {mode.Name} | {AccuracyText(mode.Accuracy)} | {AccuracyVerdict(mode.Accuracy)} |");
        }

        md.AppendLine($"| P6 layer ≤ 5 MB gzip | coverage-ready image over its base | {Mb(LayerMb)} MB | {Verdict(LayerMb, LayerGoalMb, "MB")} |");
        md.AppendLine();
        md.AppendLine("## Rows");
        md.AppendLine();
        md.AppendLine("| CPUs | row | init p50 | init p90 | cold call p50 | cold CPU | Max Memory Used | warm p50 | warm p99 | post-rt p50 | post-rt p99 | agent ready | agent RSS |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var run in runs)
        {
            foreach (var c in run.Rows)
            {
                md.AppendLine($"| {run.Cpus} | `{c.Name}` | {Ms(Statistics.Median(c.InitMs))} | {Ms(Statistics.Percentile(c.InitMs, 90))} | {Ms(Statistics.Median(c.ColdLatencyMs))} | {Ms(Statistics.Median(c.ColdCpuMs))} | {Ms(Statistics.Median(c.MemoryMb))} | "
                    + $"{Ms(Statistics.Percentile(c.WarmLatencyMs, 50))} | {Ms(Statistics.Percentile(c.WarmLatencyMs, 99))} | {Ms(Statistics.Median(c.PostRuntimeMs))} | {Ms(Statistics.Percentile(c.PostRuntimeMs, 99))} | {Ms(Statistics.Median(c.AgentReadyMs))} | {Ms(Statistics.Median(c.AgentRssMb))} |");
            }
        }

        md.AppendLine();
        md.AppendLine("Units: ms, MB. P1 is the emulator's Init Duration; P2 the caller's latency of warm invocations; P3 the emulator's Post-Runtime Extensions Duration of warm invocations with a flush after each; "
            + "P4 the agent's VmHWM at SHUTDOWN and the REPORT's Max Memory Used of the cold invocation; P5 from the accuracy and warm-attribution tests; P6 the coverage-ready image's own layers gzipped, and the instrumented function image's size minus the plain one's.");
        foreach (var mode in Modes.Where(m => m.Accuracy.WarmNote.Length > 0))
        {
            md.AppendLine($"Warm attribution, {mode.Name}: {mode.Accuracy.WarmNote}.");
        }

        return md.ToString();
    }

    private static string Goal(string goal, Entry e, string figure, double value, double limit, string unit) =>
        $"| {goal} | {e.Mode.Name}, {e.Run.Cpus} | {figure} | {Verdict(value, limit, unit)} |";

    private static string Verdict(double value, double limit, string unit) =>
        double.IsNaN(value) ? "not measured"
        : value <= limit ? "met"
        : $"missed by {(value - limit).ToString(unit == "×" ? "0.000" : "0.00", CultureInfo.InvariantCulture)}{(unit == "×" ? "×" : " " + unit)}";

    private static string AccuracyVerdict(ModeAccuracy a)
    {
        if (a.Jit is null || a.ReadyToRun is null || a.WarmExact is null)
        {
            return "not measured";
        }

        var missed = new List<string>();
        foreach (var (name, figure) in new[] { ("JIT", a.Jit), ("R2R", a.ReadyToRun) })
        {
            if (figure.Precision < 1 || figure.Recall < 1)
            {
                missed.Add($"{name} {figure.Precision:0.00}/{figure.Recall:0.00}");
            }
        }

        if (a.WarmExact == false)
        {
            missed.Add("warm not exact");
        }

        return missed.Count == 0 ? "met" : "missed: " + string.Join(", ", missed);
    }

    private static string AccuracyText(ModeAccuracy a) =>
        $"{Pr(a.Jit)} · {Pr(a.ReadyToRun)} · {(a.WarmExact is { } exact ? (exact ? "yes" : "no") : "-")}";

    private static string Pr(Accuracy? a) => a is null ? "-" : $"{a.Precision:0.00}/{a.Recall:0.00}";

    private static JsonObject AccuracyNode(ModeAccuracy a) => new()
    {
        ["jit"] = a.Jit is null ? null : new JsonObject { ["precision"] = a.Jit.Precision, ["recall"] = a.Jit.Recall },
        ["r2r"] = a.ReadyToRun is null ? null : new JsonObject { ["precision"] = a.ReadyToRun.Precision, ["recall"] = a.ReadyToRun.Recall },
        ["warm_exact"] = a.WarmExact,
        ["warm_note"] = a.WarmNote,
    };

    private static JsonNode? Num(double value, int digits = 2) => double.IsNaN(value) || double.IsInfinity(value) ? null : JsonValue.Create(Math.Round(value, digits));

    private static string Ms(double value) => double.IsNaN(value) ? "-" : value.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Mb(double value) => double.IsNaN(value) ? "-" : value.ToString("0.0", CultureInfo.InvariantCulture);

    private static string Ratio(double value) => double.IsNaN(value) ? "-" : value.ToString("0.000", CultureInfo.InvariantCulture) + "×";
}
