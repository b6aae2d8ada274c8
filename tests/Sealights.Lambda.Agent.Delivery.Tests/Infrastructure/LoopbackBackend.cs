using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;

/// <summary>One request as the server read it: its line, headers (names lower-cased) and body (gunzipped when sent gzipped).</summary>
public sealed record LoopbackRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? Header(string name) => Headers.GetValueOrDefault(name.ToLowerInvariant());
}

/// <summary>What the server answers: a status, a body, and how long it holds the answer back.</summary>
public sealed record LoopbackAnswer(int Status, string Body = "", TimeSpan Hold = default);

/// <summary>
/// An in-process HTTP/1.1 server on loopback that reads whole requests (headers and body) and
/// answers each with what the test's function says, by method and path. Stands in for the test
/// backend process where a mutation run would pay seconds per mutant for a process start: the
/// tests that use it decide the answers themselves, so it holds no Sealights logic.
/// </summary>
public sealed class LoopbackBackend : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<LoopbackRequest> _requests = [];
    private readonly List<Task> _connections = [];
    private readonly Task _serving;
    private Func<LoopbackRequest, LoopbackAnswer> _answer = _ => new LoopbackAnswer(200);

    public LoopbackBackend()
    {
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The token's x-sl-server for this backend.</summary>
    public string Api => $"http://127.0.0.1:{Port}/api";

    public IReadOnlyList<LoopbackRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Requests whose path (without the query) starts with <c>/api/</c> + <paramref name="route"/>.</summary>
    public IReadOnlyList<LoopbackRequest> To(string route) =>
        Requests.Where(r => r.Target.StartsWith("/api/" + route, StringComparison.Ordinal)).ToList();

    public void Answer(Func<LoopbackRequest, LoopbackAnswer> answer)
    {
        lock (_requests)
        {
            _answer = answer;
        }
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            lock (_connections)
            {
                _connections.RemoveAll(c => c.IsCompleted);
                _connections.Add(Task.Run(() => ConnectionAsync(client)));
            }
        }
    }

    // Keep-alive: the agent's handler reuses connections, so one connection may carry many requests.
    private async Task ConnectionAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var pending = new MemoryStream();
                var buffer = new byte[8192];
                while (true)
                {
                    var request = await ReadRequestAsync(stream, pending, buffer);
                    if (request is null)
                    {
                        return;
                    }

                    LoopbackAnswer answer;
                    lock (_requests)
                    {
                        _requests.Add(request);
                        answer = _answer(request);
                    }

                    await Task.Delay(answer.Hold, _stop.Token);
                    var body = Encoding.UTF8.GetBytes(answer.Body);
                    var head = Encoding.ASCII.GetBytes($"HTTP/1.1 {answer.Status} Loopback\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n");
                    await stream.WriteAsync(head, _stop.Token);
                    await stream.WriteAsync(body, _stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // The client gave up (a timeout test) or the server is stopping.
            }
        }
    }

    private async Task<LoopbackRequest?> ReadRequestAsync(NetworkStream stream, MemoryStream pending, byte[] buffer)
    {
        int headEnd;
        while ((headEnd = IndexOf(pending, "\r\n\r\n"u8)) < 0)
        {
            var read = await stream.ReadAsync(buffer, _stop.Token);
            if (read == 0)
            {
                return null;
            }
            pending.Write(buffer, 0, read);
        }

        var all = pending.ToArray();
        var lines = Encoding.ASCII.GetString(all, 0, headEnd).Split("\r\n");
        var requestLine = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            var name = line[..colon].Trim().ToLowerInvariant();
            var value = line[(colon + 1)..].Trim();
            headers[name] = headers.TryGetValue(name, out var earlier) ? earlier + ", " + value : value;
        }

        var length = headers.TryGetValue("content-length", out var text) ? int.Parse(text) : 0;
        var bodyStart = headEnd + 4;
        while (all.Length - bodyStart < length)
        {
            var read = await stream.ReadAsync(buffer, _stop.Token);
            if (read == 0)
            {
                return null;
            }
            pending.Write(buffer, 0, read);
            all = pending.ToArray();
        }

        var body = all.AsSpan(bodyStart, length).ToArray();
        pending.SetLength(0);
        pending.Write(all, bodyStart + length, all.Length - bodyStart - length);
        if (headers.GetValueOrDefault("content-encoding") == "gzip")
        {
            using var unzipped = new MemoryStream();
            using (var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress))
            {
                gzip.CopyTo(unzipped);
            }
            body = unzipped.ToArray();
        }

        return new LoopbackRequest(requestLine[0], requestLine[1], headers, Encoding.UTF8.GetString(body));
    }

    private static int IndexOf(MemoryStream stream, ReadOnlySpan<byte> pattern) =>
        stream.GetBuffer().AsSpan(0, (int)stream.Length).IndexOf(pattern);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _serving;
        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }
        await Task.WhenAll(connections);
        _stop.Dispose();
    }
}
