using Sealights.Lambda.Emulator.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Emulator.Tests;

/// <summary>Between invocations the environment is frozen (SIGSTOP): background timers do not tick.</summary>
public sealed class FreezeTests(ITestOutputHelper output) : IDisposable
{
    private readonly FunctionSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_background_timer_does_not_tick_while_the_environment_is_frozen(bool freeze)
    {
        // A child process of the extension appends a timestamp every 50 ms.
        _sandbox.AddExtension("ticker", """
            ( while true; do now_ms >> "$OUT/ticks.txt"; sleep 0.05; done ) &
            ext_register "$NAME" '["INVOKE"]'
            while true; do ext_next; done
            """);
        // The second invoke keeps the environment thawed for 300 ms, long enough to see it tick again.
        var runtime = _sandbox.AddRuntime("""
            while true; do rt_next; [ "$BODY" = two ] && sleep 0.3; rt_respond "$BODY"; done
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, new EmulatorStart
        {
            Flags = freeze ? [] : ["--no-freeze"],
        }, output);

        var first = await emulator.InvokeAsync("one");
        await emulator.WaitForReportAsync(first.RequestId!);
        var gapStart = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Task.Delay(1200);
        var gapEnd = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await emulator.InvokeAsync("two");

        var ticks = File.ReadAllLines(_sandbox.OutputPath("ticks.txt")).Select(long.Parse).ToList();
        var during = ticks.Count(t => t > gapStart + 100 && t < gapEnd - 100);
        if (freeze)
        {
            Assert.Equal(0, during);
            Assert.Contains(ticks, t => t > gapEnd); // thawed: it ticks again
        }
        else
        {
            Assert.InRange(during, 5, 40);
        }
    }
}
