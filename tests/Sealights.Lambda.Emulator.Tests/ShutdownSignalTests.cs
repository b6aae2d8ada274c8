using Sealights.Lambda.Emulator.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Emulator.Tests;

/// <summary>
/// Who gets the SIGTERM at shutdown: the runtime process alone (the default), or its whole
/// process group at the same moment, as AWS's RIE sends it (--sigterm-runtime-group).
/// </summary>
public sealed class ShutdownSignalTests(ITestOutputHelper output) : IDisposable
{
    // The runtime leaves a child in its process group (as an exec wrapper's background runtime
    // is without job control) and gives it 100 ms (the grace is 300 ms) to say whether a SIGTERM reached it.
    private const string RuntimeWithChild = """
        ( trap 'log "child sigterm"; exit 0' TERM; while true; do sleep 0.05 & wait $!; done ) &
        trap 'log sigterm; sleep 0.1; exit 0' TERM
        echo_loop_trappable
        """;

    private readonly FunctionSandbox _sandbox = new();

    [Fact]
    public async Task A_runtime_calling_next_after_SIGTERM_is_held_not_refused()
    {
        // As a runtime that finishes its answer while the shutdown begins: its next must not fail
        // (a runtime client exits on a refused next, before its wrapper's pre-SIGTERM flush).
        var runtime = _sandbox.AddRuntime("""
            trap 'log sigterm; echo "0 next after SIGTERM: $(curl -s -o /dev/null -w "%{http_code}" --max-time 0.1 "$RT/invocation/next")" >> "$OUT/$NAME.log"; exit 0' TERM
            echo_loop_trappable
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);
        var response = await emulator.InvokeAsync("x");
        await emulator.WaitForReportAsync(response.RequestId!);

        Assert.Equal(0, await emulator.StopAsync());

        // curl's 000: no answer within its 100 ms. The refusal was an instant 403; a loaded
        // machine may kill the runtime (300 ms after SIGTERM) before it logs the 000.
        Assert.Contains("sigterm", _sandbox.LogTexts("runtime"));
        Assert.DoesNotContain(_sandbox.LogTexts("runtime"), l => l.StartsWith("next after SIGTERM: 4", StringComparison.Ordinal));
    }

    public void Dispose() => _sandbox.Dispose();

    [Theory]
    [InlineData("default", false)]
    [InlineData("flag", true)]
    [InlineData("env", true)]
    public async Task SIGTERM_at_shutdown_reaches_the_runtime_and_with_the_option_its_whole_process_group(string how, bool group)
    {
        var runtime = _sandbox.AddRuntime(RuntimeWithChild);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, new EmulatorStart
        {
            Flags = how == "flag" ? ["--sigterm-runtime-group"] : [],
            Environment = how == "env" ? new Dictionary<string, string> { ["SL_EMULATOR_SIGTERM_GROUP"] = "true" } : new Dictionary<string, string>(),
        }, output);
        var response = await emulator.InvokeAsync("x");
        Assert.Equal("x", response.Body);
        await emulator.WaitForReportAsync(response.RequestId!);

        Assert.Equal(0, await emulator.StopAsync());

        Assert.Contains("sigterm", _sandbox.LogTexts("runtime"));
        if (group)
        {
            Assert.Contains("child sigterm", _sandbox.LogTexts("runtime"));
            Assert.Contains(emulator.Stderr, l => l.Contains("SIGTERM at shutdown to the runtime's process group", StringComparison.Ordinal));
        }
        else
        {
            // The child outlived the runtime and was SIGKILLed with the rest of the environment.
            Assert.DoesNotContain("child sigterm", _sandbox.LogTexts("runtime"));
        }
        await emulator.WaitForStderrAsync(l => l.Contains("shutdown (spindown): runtime ", StringComparison.Ordinal));
    }
}
