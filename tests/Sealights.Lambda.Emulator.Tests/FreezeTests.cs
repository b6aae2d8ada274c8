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
        // A child process of the extension appends a timestamp every 50 ms and names its pid.
        _sandbox.AddExtension("ticker", """
            ( while true; do now_ms >> "$OUT/ticks.txt"; sleep 0.05; done ) &
            echo $! > "$OUT/ticker.pid"
            ext_register "$NAME" '["INVOKE"]'
            while true; do ext_next; done
            """);
        var runtime = _sandbox.AddRuntime("echo_loop");
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, new EmulatorStart
        {
            Flags = freeze ? [] : ["--no-freeze"],
        }, output);

        var first = await emulator.InvokeAsync("one");
        await emulator.WaitForReportAsync(first.RequestId!);
        var ticker = int.Parse(File.ReadAllText(_sandbox.OutputPath("ticker.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var between = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (freeze)
        {
            // By the kernel's word, not by a quiet interval: between invocations the ticker is
            // stopped (state T), and a stopped process cannot tick.
            await UntilAsync(() => State(ticker) == 'T', "the ticker to be stopped between invocations");
            var frozenAt = Ticks().Count;
            Assert.Equal('T', State(ticker));
            Assert.Equal(frozenAt, Ticks().Count);
        }
        else
        {
            // Not frozen: it ticks between invocations, with no invocation running.
            await UntilAsync(() => Ticks().Any(t => t > between), "a tick between invocations");
            Assert.NotEqual('T', State(ticker));
        }

        var resumedFrom = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await emulator.InvokeAsync("two");
        // Thawed by the invocation: it ticks again (a tick logged after the invocation began).
        await UntilAsync(() => Ticks().Any(t => t > resumedFrom), "the ticker to tick again once thawed");
    }

    private List<long> Ticks() =>
        File.Exists(_sandbox.OutputPath("ticks.txt"))
            ? [.. File.ReadAllLines(_sandbox.OutputPath("ticks.txt")).Where(l => l.Length > 0).Select(long.Parse)]
            : [];

    /// <summary>The process's state letter from /proc/PID/stat (after the parenthesised command name).</summary>
    private static char State(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[stat.LastIndexOf(')') + 2];
    }

    /// <summary>Polls <paramref name="condition"/>; the 20 s bound only catches a wait that never ends.</summary>
    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited 20 s for {what}");
            await Task.Delay(20);
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
