using System.Net;
using System.Net.Sockets;
using System.Text;
using Sealights.Lambda.Agent.Lifecycle;

namespace Sealights.Lambda.Agent.Tests.Lifecycle;

/// <summary>
/// What the agent's HTTP reader does with what a broken or hostile peer sends, on both sides it
/// speaks: the Telemetry listener (Lambda pushes to it) and the Extensions API client (Lambda
/// answers it). The reproducers came from a bounded mutational fuzzer (issue 22, F1–F4); each
/// killed the agent process or allocated gigabytes before.
/// </summary>
public sealed class HostileHttpTests
{
    public static TheoryData<string, string> HostileRequests => new()
    {
        // F1: a Content-Length over int.MaxValue (int.Parse threw OverflowException: exit 134).
        { "F1 huge Content-Length", "POST / HTTP/1.1\r\nContent-Length: 2147483648\r\n\r\n" },
        // F1: a chunk size over int.MaxValue.
        { "F1 huge chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n100000000\r\n" },
        // F2: FFFFFFFF parsed as -1, passed the bound and made ReadExactly(-1) throw.
        { "F2 chunk size FFFFFFFF", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFF\r\n" },
        // F3: 0x41 bytes read, then 7FFFFFC0: the sum wrapped negative and 2 GiB were allocated.
        { "F3 wrapping chunk sum", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n" + new string('A', 0x41) + "\r\n7FFFFFC0\r\n" },
        // The same with 64-bit sizes that would wrap an unsigned sum.
        { "F3 64-bit wrap", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n" + new string('A', 0x41) + "\r\nFFFFFFFFFFFFFFC0\r\n" },
        { "chunk size too long for 64 bits", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n" },
        { "negative Content-Length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n" },
        { "empty Content-Length", "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n" },
        { "non-hex chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" },
        { "too many header lines", "POST / HTTP/1.1\r\n" + string.Concat(Enumerable.Range(0, 500).Select(i => $"X-{i}: y\r\n")) + "\r\n" },
        { "a line without an end", "POST / HTTP/1.1\r\nX: " + new string('y', 64 * 1024) },
    };

    [Theory]
    [MemberData(nameof(HostileRequests))]
    public void The_reader_refuses_with_an_IOException_and_allocates_little(string input, string bytes)
    {
        var (reader, peer) = ReaderOver(bytes, maxBodyBytes: 2 * 1024 * 1024);
        using var _ = peer;
        var allocated = GC.GetAllocatedBytesForCurrentThread();

        var refused = Assert.ThrowsAny<IOException>(() =>
        {
            reader.ReadLine();
            reader.ReadBody(reader.ReadHeaders(), toEndWithoutLength: false);
        });

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocated < 4 * 1024 * 1024, $"{input}: {refused.Message}");
    }

    [Fact]
    public async Task The_telemetry_listener_survives_every_hostile_request_and_still_hears_lambda()
    {
        var warnings = new List<string>();
        using var listener = TelemetryListener.Start(w => { lock (warnings) { warnings.Add(w); } }, "/nonexistent");
        foreach (var (_, bytes) in HostileRequests.Select(row => ((string)row[0], (string)row[1])))
        {
            using var hostile = await ConnectAsync(listener);
            await hostile.SendAsync(Encoding.ASCII.GetBytes(bytes));
            hostile.Shutdown(SocketShutdown.Send);
            // The listener closes the connection (it may or may not answer first).
            await ReadToEndAsync(hostile);
        }

        var done = listener.RuntimeDone("req-1");
        await PostEventsAsync(listener, """[{"time":"2026-12-06T00:00:00Z","type":"platform.runtimeDone","record":{"requestId":"req-1","status":"success"}}]""");

        await done.WaitAsync(TimeSpan.FromSeconds(10));
        lock (warnings)
        {
            // One line for the whole lot, not one per connection.
            Assert.Single(warnings);
        }
    }

    [Fact]
    public async Task Idle_connections_do_not_hold_the_listener_and_are_closed_by_the_silence_limit()
    {
        using var listener = TelemetryListener.Start(_ => { }, "/nonexistent");
        var idle = new List<Socket>();
        try
        {
            for (var i = 0; i < 50; i++)
            {
                idle.Add(await ConnectAsync(listener));
            }

            var started = listener.Started("req-2");
            await PostEventsAsync(listener, """[{"time":"2026-12-06T00:00:00Z","type":"platform.start","record":{"requestId":"req-2"}}]""");
            await started.WaitAsync(TimeSpan.FromSeconds(10));

            // Every idle peer is hung up on (a read returns 0), by the silence limit: the listener
            // counts each connection it closed for want of a first request. (The wait is only a
            // bound on a hang; the assertion is on what the listener did.)
            var closed = await Task.WhenAll(idle.Select(socket => ReadToEndAsync(socket).WaitAsync(TelemetryListener.SilenceLimit * 6)));
            Assert.All(closed, received => Assert.Equal(0, received));
            Assert.Equal(idle.Count, listener.SilentConnectionsClosed);
        }
        finally
        {
            idle.ForEach(s => s.Dispose());
        }
    }

    public static TheoryData<string> MalformedAnswers =>
    [
        "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n" + new string('A', 0x41) + "\r\n7FFFFFC0\r\n",
        "SSH-2.0-OpenSSH\r\n\r\n",
    ];

    [Theory]
    [MemberData(nameof(MalformedAnswers))]
    public async Task A_malformed_Extensions_API_answer_to_the_telemetry_subscription_is_an_IOException(string answer)
    {
        // F4: these threw FormatException/OverflowException past SubscribeToTelemetry's fallback,
        // which catches IOException (then hits are flushed at INVOKE instead): the agent stopped.
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var answering = Task.Run(async () =>
        {
            using var peer = await server.AcceptSocketAsync();
            var buffer = new byte[64 * 1024];
            await peer.ReceiveAsync(buffer);
            await peer.SendAsync(Encoding.ASCII.GetBytes(answer));
            peer.Shutdown(SocketShutdown.Send);
        });
        using var client = new ExtensionsApiClient($"127.0.0.1:{((IPEndPoint)server.LocalEndpoint).Port}");
        client.UseRegistration("ext-1");
        var allocated = GC.GetAllocatedBytesForCurrentThread();

        var refused = Assert.ThrowsAny<IOException>(() => client.SubscribeToTelemetry(new Uri("http://sandbox.localdomain:1234/")));

        // F3's twin (MaxResponseBytes): a wrapping chunk sum allocated 2 GiB on this side too.
        var cost = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.True(cost < 4 * 1024 * 1024, $"{cost} bytes allocated ({refused.Message})");
        await answering.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static (HttpMessageReader Reader, IDisposable Peer) ReaderOver(string bytes, int maxBodyBytes)
    {
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var writer = new Socket(SocketType.Stream, ProtocolType.Tcp);
        writer.Connect((IPEndPoint)server.LocalEndpoint);
        var reading = server.AcceptSocket();
        // Sent in the background: the input may be larger than the socket buffers.
        _ = Task.Run(() =>
        {
            try
            {
                writer.Send(Encoding.ASCII.GetBytes(bytes));
                writer.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The reader gave up first.
            }
        });
        return (new HttpMessageReader(reading, maxBodyBytes), new Pair(reading, writer));
    }

    private static async Task<Socket> ConnectAsync(TelemetryListener listener)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, listener.Destination.Port);
        return socket;
    }

    private static async Task PostEventsAsync(TelemetryListener listener, string json)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync(
            $"http://127.0.0.1:{listener.Destination.Port}/", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Reads until the peer closes; the bytes received.</summary>
    private static async Task<int> ReadToEndAsync(Socket socket)
    {
        var buffer = new byte[4096];
        var total = 0;
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer)) > 0)
            {
                total += read;
            }
        }
        catch (SocketException)
        {
            // Reset by the listener: closed as well.
        }
        return total;
    }

    /// <summary>Both ends of a loopback connection, disposed together.</summary>
    private sealed class Pair(Socket a, Socket b) : IDisposable
    {
        public void Dispose()
        {
            a.Dispose();
            b.Dispose();
        }
    }
}
