using System.Net.Sockets;
using System.Text;
using Sealights.Lambda.Emulator.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Emulator.Tests;

/// <summary>
/// Between invocations the environment is frozen (SIGSTOP): background timers do not tick, and
/// the Runtime API does not give up on clients that were stopped.
/// </summary>
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
        if (freeze)
        {
            // The freeze follows the REPORT line; on a busy machine by more than a tick or two.
            // Frozen, the file stops growing: the gap is measured from then (never more than 2 s on).
            await UntilTicksStopAsync(TimeSpan.FromSeconds(2));
        }
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

    private async Task UntilTicksStopAsync(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        var last = -1L;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            var size = new FileInfo(_sandbox.OutputPath("ticks.txt")).Length;
            if (size == last)
            {
                return;
            }
            last = size;
        }
    }

    /// <summary>
    /// A frozen (or merely descheduled) client can stop between its connect and its request, or
    /// between two requests on a kept-alive connection, for any length of time. Kestrel's
    /// heartbeat ticks each second, so 2.5 s of silence spans two ticks.
    /// </summary>
    [Fact]
    public async Task A_client_silent_after_connecting_or_between_requests_is_still_answered()
    {
        var runtime = _sandbox.AddRuntime("echo_loop");
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", emulator.RuntimeApiPort);
        var stream = client.GetStream();

        await Task.Delay(2500); // silent after connect
        Assert.StartsWith("HTTP/1.1 404 ", await AskAsync(stream));
        await Task.Delay(2500); // silent between two requests on the same connection
        Assert.StartsWith("HTTP/1.1 404 ", await AskAsync(stream));
    }

    /// <summary>One request for an unknown path; the response as read (empty when the server hung up).</summary>
    private static async Task<string> AskAsync(NetworkStream stream)
    {
        await stream.WriteAsync("GET /2018-06-01/runtime/no-such-api HTTP/1.1\r\nHost: sandbox\r\n\r\n"u8.ToArray());
        var buffer = new byte[4096];
        var response = new StringBuilder();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!response.ToString().Contains("}", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                break;
            }
            response.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        return response.ToString();
    }
}
