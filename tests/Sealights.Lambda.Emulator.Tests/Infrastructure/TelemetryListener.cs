using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Sealights.Lambda.Emulator.Tests.Infrastructure;

/// <summary>
/// A Telemetry API subscriber on 127.0.0.1: records every POSTed batch and when it came. A
/// small HTTP/1.1 server on a TcpListener, because the requests carry the sandbox's Host name
/// (sandbox.localdomain), which HttpListener would only accept when bound to every address.
/// </summary>
public sealed class TelemetryListener : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private readonly List<(long ReceivedMs, JsonElement Event)> _events = [];

    public TelemetryListener()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    /// <summary>The URI an extension subscribes with: the sandbox's name, which the emulator resolves itself.</summary>
    public string SandboxUri => $"http://sandbox.localdomain:{Port}/telemetry";

    public IReadOnlyList<(long ReceivedMs, JsonElement Event)> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    /// <summary>Reads requests (keep-alive) until the client closes; answers each with 200.</summary>
    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var buffer = new List<byte>();
            var chunk = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    int headerEnd;
                    while ((headerEnd = IndexOf(buffer, "\r\n\r\n"u8)) < 0)
                    {
                        var read = await stream.ReadAsync(chunk, _stop.Token);
                        if (read == 0)
                        {
                            return;
                        }
                        buffer.AddRange(chunk.AsSpan(0, read));
                    }
                    var headers = Encoding.ASCII.GetString(buffer.GetRange(0, headerEnd).ToArray()).Split("\r\n");
                    var length = headers.Select(h => h.Split(':', 2))
                        .Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                        .Select(p => int.Parse(p[1].Trim())).FirstOrDefault();
                    var total = headerEnd + 4 + length;
                    while (buffer.Count < total)
                    {
                        var read = await stream.ReadAsync(chunk, _stop.Token);
                        if (read == 0)
                        {
                            return;
                        }
                        buffer.AddRange(chunk.AsSpan(0, read));
                    }
                    var body = buffer.GetRange(headerEnd + 4, length).ToArray();
                    buffer.RemoveRange(0, total);
                    Record(body);
                    await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), _stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
            {
            }
        }
    }

    private void Record(byte[] body)
    {
        var received = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var document = JsonDocument.Parse(body);
        lock (_gate)
        {
            foreach (var item in document.RootElement.EnumerateArray())
            {
                _events.Add((received, item.Clone()));
            }
        }
    }

    private static int IndexOf(List<byte> haystack, ReadOnlySpan<byte> needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Count; i++)
        {
            var match = true;
            for (var j = 0; j < needle.Length && match; j++)
            {
                match = haystack[i + j] == needle[j];
            }
            if (match)
            {
                return i;
            }
        }
        return -1;
    }
}
