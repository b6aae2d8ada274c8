using System.Text.RegularExpressions;
using Sealights.Lambda.Emulator.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Emulator.Tests;

/// <summary>Timeouts, runtime crashes and init failures: the caller's error, and a fresh environment afterwards.</summary>
public sealed partial class FailureTests(ITestOutputHelper output) : IDisposable
{
    private readonly FunctionSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task A_timeout_answers_Sandbox_Timedout_and_the_next_invoke_starts_a_new_environment()
    {
        var runtime = _sandbox.AddRuntime("""
            log "init $$"
            while true; do
              rt_next
              if [ "$BODY" = slow ]; then sleep 10; fi
              rt_respond "done:$BODY"
            done
            """);
        _sandbox.AddExtension("watcher", """
            ext_register "$NAME" '["INVOKE","SHUTDOWN"]'
            while true; do ext_next; case "$EVENT" in *SHUTDOWN*) log "$EVENT"; exit 0;; esac; done
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, new EmulatorStart
        {
            Environment = new Dictionary<string, string> { ["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "1" },
        }, output);

        var timedOut = await emulator.InvokeAsync("slow", new Dictionary<string, string> { ["X-Amzn-RequestId"] = "slow-1" });
        var next = await emulator.InvokeAsync("fast");

        Assert.Equal(200, timedOut.StatusCode);
        Assert.Equal("Unhandled", timedOut.FunctionError);
        Assert.Equal("Sandbox.Timedout", timedOut.ErrorType);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z slow-1 Task timed out after 1\.00 seconds$", timedOut.ErrorMessage);
        // Answered at the 1 s timeout, not before it; not at the runtime's own end either (the error says timeout).
        Assert.True(timedOut.Latency.TotalMilliseconds >= 900, $"answered after {timedOut.Latency}");
        Assert.Equal("done:fast", next.Body);

        // Re-init: a second runtime process, and a second cold REPORT.
        var inits = _sandbox.LogTexts("runtime");
        Assert.Equal(2, inits.Count);
        Assert.NotEqual(inits[0], inits[1]);
        Assert.EndsWith("\tStatus: timeout", await emulator.WaitForReportAsync("slow-1"));
        Assert.Contains("\tInit Duration: ", await emulator.WaitForReportAsync(next.RequestId!));
        await emulator.WaitForStdoutAsync(l => l.EndsWith(" slow-1 Task timed out after 1.00 seconds", StringComparison.Ordinal));
        // The extension was told why the environment went away.
        var shutdown = Assert.Single(_sandbox.ReadLog("watcher"));
        Assert.Contains("\"shutdownReason\":\"timeout\"", shutdown.Text);
    }

    [Fact]
    public async Task A_runtime_that_exits_during_an_invoke_gives_Runtime_ExitError_and_a_new_environment()
    {
        var runtime = _sandbox.AddRuntime("""
            log "init $$"
            while true; do
              rt_next
              if [ "$BODY" = die ]; then exit 3; fi
              rt_respond "alive:$BODY"
            done
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);

        var crashed = await emulator.InvokeAsync("die", new Dictionary<string, string> { ["X-Amzn-RequestId"] = "die-1" });
        var next = await emulator.InvokeAsync("again");

        Assert.Equal("Unhandled", crashed.FunctionError);
        Assert.Equal("Runtime.ExitError", crashed.ErrorType);
        Assert.Equal("RequestId: die-1 Error: Runtime exited with error: exit status 3", crashed.ErrorMessage);
        await emulator.WaitForStdoutAsync(l => l == "RequestId: die-1 Error: Runtime exited with error: exit status 3");
        Assert.Equal("alive:again", next.Body);
        Assert.Equal(2, _sandbox.LogTexts("runtime").Count);
        Assert.EndsWith("\tStatus: error\tError Type: Runtime.ExitError", await emulator.WaitForReportAsync("die-1"));
    }

    [Fact]
    public async Task A_runtime_init_error_fails_the_invoke_with_the_posted_error()
    {
        var runtime = _sandbox.AddRuntime("""
            if [ ! -f "$OUT/failed-once" ]; then
              touch "$OUT/failed-once"
              # The environment is reset (this process killed) as soon as the error is in.
              curl -sS -X POST "$RT/init/error" -H 'Lambda-Runtime-Function-Error-Type: Runtime.ConfigError' \
                --data-binary '{"errorMessage":"bad config","errorType":"Runtime.ConfigError"}'
              sleep 10
            fi
            echo_loop
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);

        var failed = await emulator.InvokeAsync("x");
        var next = await emulator.InvokeAsync("y");

        Assert.Equal("Unhandled", failed.FunctionError);
        Assert.Equal("""{"errorMessage":"bad config","errorType":"Runtime.ConfigError"}""", failed.Body);
        await emulator.WaitForStdoutAsync(l => l.StartsWith("INIT_REPORT Init Duration: ", StringComparison.Ordinal)
            && l.EndsWith("\tPhase: init\tStatus: error\tError Type: Runtime.ConfigError", StringComparison.Ordinal));
        Assert.Equal("y", next.Body);
    }

    [Fact]
    public async Task Init_that_outlasts_the_init_limit_fails_with_Sandbox_Timedout()
    {
        var runtime = _sandbox.AddRuntime("""
            if [ ! -f "$OUT/slow-once" ]; then touch "$OUT/slow-once"; sleep 5; fi
            echo_loop
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, new EmulatorStart
        {
            Environment = new Dictionary<string, string> { ["SL_EMULATOR_INIT_TIMEOUT"] = "1" },
        }, output);

        var failed = await emulator.InvokeAsync("x");
        var next = await emulator.InvokeAsync("y");

        Assert.Equal("Sandbox.Timedout", failed.ErrorType);
        Assert.True(failed.Latency.TotalMilliseconds >= 900, $"answered after {failed.Latency}");
        await emulator.WaitForStdoutAsync(l => InitTimeoutReport().IsMatch(l));
        Assert.Equal("y", next.Body);
    }

    [Fact]
    public async Task A_missing_bootstrap_fails_each_invoke_with_Runtime_InvalidEntrypoint_without_stopping_the_emulator()
    {
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, Path.Combine(_sandbox.Root, "no-such-bootstrap"), output: output);

        var first = await emulator.InvokeAsync("x");
        var second = await emulator.InvokeAsync("y");

        Assert.Equal("Runtime.InvalidEntrypoint", first.ErrorType);
        Assert.Equal("Runtime.InvalidEntrypoint", second.ErrorType);
        Assert.False(emulator.HasExited);
    }

    [GeneratedRegex(@"^INIT_REPORT Init Duration: (\d+\.\d\d) ms\tPhase: init\tStatus: timeout$")]
    private static partial Regex InitTimeoutReport();
}
