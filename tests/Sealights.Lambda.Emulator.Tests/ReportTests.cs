using System.Globalization;
using System.Text.RegularExpressions;
using Sealights.Lambda.Emulator.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Emulator.Tests;

/// <summary>START / END / REPORT: the exact shape benchmarks read, and values that are measured.</summary>
public sealed partial class ReportTests(ITestOutputHelper output) : IDisposable
{
    private readonly FunctionSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task REPORT_lines_have_RIEs_shape_and_measured_durations_and_memory()
    {
        // "sleep" takes 300 ms of the invoke; "grow" makes bash hold a 64 MB string.
        var runtime = _sandbox.AddRuntime("""
            sleep 0.2
            while true; do
              rt_next
              case "$BODY" in
                sleep) sleep 0.3;;
                grow) HOG=$(head -c 67108864 /dev/zero | tr '\0' a); BODY="grew ${#HOG}";;
              esac
              rt_respond "$BODY"
            done
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, new EmulatorStart
        {
            Environment = new Dictionary<string, string> { ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "512" },
        }, output);

        var cold = await emulator.InvokeAsync("first", new Dictionary<string, string> { ["X-Amzn-RequestId"] = "r-cold" });
        await emulator.WaitForReportAsync("r-cold");
        var slept = await emulator.InvokeAsync("sleep", new Dictionary<string, string> { ["X-Amzn-RequestId"] = "r-sleep" });
        var grown = await emulator.InvokeAsync("grow", new Dictionary<string, string> { ["X-Amzn-RequestId"] = "r-grow" });
        await emulator.WaitForReportAsync("r-grow");

        Assert.Equal("first", cold.Body);
        Assert.Equal("grew 67108864", grown.Body);
        var stdout = emulator.Stdout;
        foreach (var id in new[] { "r-cold", "r-sleep", "r-grow" })
        {
            // START, END and REPORT in that order, START exactly as RIE prints it.
            var start = stdout.ToList().IndexOf($"START RequestId: {id} Version: $LATEST");
            var end = stdout.ToList().IndexOf($"END RequestId: {id}");
            var report = stdout.ToList().FindIndex(l => l.StartsWith($"REPORT RequestId: {id}\t", StringComparison.Ordinal));
            Assert.True(start >= 0 && start < end && end < report, $"{id}: {start} {end} {report}");
        }

        var coldReport = Parse(await emulator.WaitForReportAsync("r-cold"));
        var sleepReport = Parse(await emulator.WaitForReportAsync("r-sleep"));
        var growReport = Parse(await emulator.WaitForReportAsync("r-grow"));

        Assert.NotNull(coldReport.Init);
        // Measured, not made up: at least what the scripts sleep, and within what the caller waited
        // (a cold start's init and invocation both fall inside its call); no limit on a slow machine.
        Assert.True(coldReport.Init!.Value >= 200, $"init {coldReport.Init} ms: the runtime's 200 ms setup is init");
        Assert.True(coldReport.Init.Value + coldReport.Duration <= cold.Latency.TotalMilliseconds + 1, $"init + duration beyond the caller's {cold.Latency}");
        Assert.Null(sleepReport.Init);
        Assert.Null(growReport.Init);
        // Billed: the duration rounded up, plus the init rounded up on a cold start.
        Assert.Equal((long)Math.Ceiling(coldReport.Duration) + (long)Math.Ceiling(coldReport.Init.Value), coldReport.Billed);
        Assert.Equal((long)Math.Ceiling(sleepReport.Duration), sleepReport.Billed);
        Assert.InRange(sleepReport.Duration, 300, slept.Latency.TotalMilliseconds + 1);
        Assert.True(coldReport.Duration > 0);
        Assert.All(new[] { coldReport, sleepReport, growReport }, r => Assert.Equal(512, r.MemorySize));
        // Measured, not made up: small bash processes, then 64 MB more once bash holds the string.
        Assert.InRange(coldReport.MaxMemory, 1, 60);
        Assert.True(growReport.MaxMemory >= coldReport.MaxMemory + 60, $"{coldReport.MaxMemory} MB then {growReport.MaxMemory} MB");
        Assert.All(new[] { coldReport, sleepReport, growReport }, r => Assert.Equal(0, r.PostRuntime));
    }

    [Fact]
    public async Task An_invoke_cut_short_by_SIGTERM_still_gets_END_and_REPORT()
    {
        // The extension is still busy with the invoke when the container is stopped.
        _sandbox.AddExtension("busy", """
            ext_register "$NAME" '["INVOKE","SHUTDOWN"]'
            while true; do ext_next; case "$EVENT" in *SHUTDOWN*) exit 0;; esac; echo "busy: started"; sleep 3; echo "busy: finished"; done
            """);
        var runtime = _sandbox.AddRuntime("echo_loop");
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);

        var response = await emulator.InvokeAsync("x", new Dictionary<string, string> { ["X-Amzn-RequestId"] = "cut-1" });
        // The extension says it is at work on the invoke (its stdout is the emulator's).
        await emulator.WaitForStdoutAsync(l => l == "busy: started");
        Assert.Equal(0, await emulator.StopAsync());

        Assert.Equal("x", response.Body);
        // Cut short: END came while the extension was still at work (before it finished, if it ever did).
        var stdout = emulator.Stdout.ToList();
        var end = stdout.IndexOf("END RequestId: cut-1");
        Assert.True(end > stdout.IndexOf("busy: started"), string.Join('\n', stdout));
        Assert.True(stdout.IndexOf("busy: finished") is var finished && (finished < 0 || finished > end), string.Join('\n', stdout));
        var report = Parse(await emulator.WaitForReportAsync("cut-1", TimeSpan.FromSeconds(1)));
        Assert.NotNull(report.Init);
        // The extension's work counts up to the signal: some, and less than its whole 3 s.
        Assert.InRange(report.PostRuntime, double.Epsilon, 3000);
    }

    [Fact]
    public async Task A_caller_waiting_when_SIGTERM_comes_gets_Sandbox_ShuttingDown_and_a_REPORT()
    {
        var runtime = _sandbox.AddRuntime("""
            while true; do rt_next; sleep 5; rt_respond "$BODY"; done
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);

        var pending = emulator.InvokeAsync("x", new Dictionary<string, string> { ["X-Amzn-RequestId"] = "cut-2" });
        await emulator.WaitForStdoutAsync(l => l == "START RequestId: cut-2 Version: $LATEST");
        await Task.Delay(500);
        Assert.Equal(0, await emulator.StopAsync());
        var response = await pending;

        Assert.Equal("Unhandled", response.FunctionError);
        Assert.Equal("Sandbox.ShuttingDown", response.ErrorType);
        var report = await emulator.WaitForReportAsync("cut-2", TimeSpan.FromSeconds(1));
        Assert.EndsWith("\tStatus: error\tError Type: Sandbox.ShuttingDown", report);
        Assert.Contains("END RequestId: cut-2", emulator.Stdout);
    }

    private static Report Parse(string line)
    {
        var match = ReportLine().Match(line);
        Assert.True(match.Success, $"unexpected REPORT shape: {line}");
        double D(string group) => double.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);
        return new Report(
            match.Groups["init"].Success ? D("init") : null,
            D("duration"),
            long.Parse(match.Groups["billed"].Value, CultureInfo.InvariantCulture),
            int.Parse(match.Groups["memory"].Value, CultureInfo.InvariantCulture),
            long.Parse(match.Groups["used"].Value, CultureInfo.InvariantCulture),
            D("post"));
    }

    private sealed record Report(double? Init, double Duration, long Billed, int MemorySize, long MaxMemory, double PostRuntime);

    [GeneratedRegex(@"^REPORT RequestId: [\w-]+\t(Init Duration: (?<init>\d+\.\d\d) ms\t)?Duration: (?<duration>\d+\.\d\d) ms\tBilled Duration: (?<billed>\d+) ms\tMemory Size: (?<memory>\d+) MB\tMax Memory Used: (?<used>\d+) MB\tPost-Runtime Extensions Duration: (?<post>\d+\.\d\d) ms$")]
    private static partial Regex ReportLine();
}
