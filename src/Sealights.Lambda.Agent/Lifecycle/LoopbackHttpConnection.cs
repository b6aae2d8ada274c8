using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>
/// One HTTP/1.1 connection to the Extensions API on the sandbox's loopback, used for one request
/// at a time. Why not HttpClient: registering is on the function's init path (Lambda starts the
/// runtime only after every extension registered) and HttpClient's first request initialises a
/// handler, a connection pool and header tables first, and pulls System.Net.Http, TLS and QUIC
/// code into the binary; this API needs none of it (plain HTTP, one peer, small bodies).
/// Blocking I/O, deliberately: the only caller is the extension's event loop, which has nothing
/// else to do while it waits, and a blocking connect and send on loopback skip the async socket
/// engine's thread hops on the way to registering (measured ~3 ms of a cold start in the
/// emulator). Bodies come with Content-Length or chunked; the connection is kept alive unless
/// the server closes it, and a request that fails on a reused connection is sent once more on a
/// new one.
/// </summary>
internal sealed class LoopbackHttpConnection(string hostAndPort) : IDisposable
{
    // The API's answers are small JSON documents; anything bigger is not this API.
    private const int MaxResponseBytes = 1024 * 1024;

    private Socket? _socket;
    private HttpMessageReader? _reader;

    /// <summary>Sends a request and reads the whole response; blocks until it has come.</summary>
    public HttpReply Send(string method, string path, IEnumerable<(string Name, string Value)> headers, string? body)
    {
        var request = Format(method, path, headers, body);
        var reused = _socket is not null;
        try
        {
            return Exchange(request);
        }
        catch (Exception e) when (reused && e is IOException or SocketException)
        {
            // The server closed the idle connection before reading the request: try a fresh one.
            Close();
            return Exchange(request);
        }
    }

    public void Dispose() => Close();

    private static bool IsCloseRequested(Dictionary<string, string> headers) =>
        headers.TryGetValue("connection", out var connection) && connection.Equals("close", StringComparison.OrdinalIgnoreCase);

    private static (string Host, int Port) Split(string hostAndPort)
    {
        var colon = hostAndPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostAndPort.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw new FormatException($"'{hostAndPort}' is not host:port");
        }

        return (hostAndPort[..colon], port);
    }

    private byte[] Format(string method, string path, IEnumerable<(string Name, string Value)> headers, string? body)
    {
        var content = body is null ? [] : Encoding.UTF8.GetBytes(body);
        var head = new StringBuilder()
            .Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(hostAndPort).Append("\r\n")
            .Append("Content-Length: ").Append(content.Length.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        head.Append("\r\n");
        return [.. Encoding.ASCII.GetBytes(head.ToString()), .. content];
    }

    private HttpReply Exchange(byte[] request)
    {
        var socket = _socket ??= Connect();
        var reader = _reader ??= new HttpMessageReader(socket, MaxResponseBytes);
        socket.Send(request, SocketFlags.None);

        var statusLine = reader.ReadLine();
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            throw new IOException($"not an HTTP response: '{statusLine}'");
        }

        var headers = reader.ReadHeaders();
        var toEnd = !headers.ContainsKey("content-length") && !headers.ContainsKey("transfer-encoding");
        var body = reader.ReadBody(headers, toEndWithoutLength: true);
        if (toEnd || IsCloseRequested(headers))
        {
            Close();
        }

        return new HttpReply(status, headers, Encoding.UTF8.GetString(body));
    }

    private Socket Connect()
    {
        var (host, port) = Split(hostAndPort);
        EndPoint endPoint = IPAddress.TryParse(host, out var address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Connect(endPoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void Close()
    {
        _socket?.Dispose();
        _socket = null;
        _reader = null;
    }
}

/// <summary>A response: status, headers (case-insensitive names) and the body as text.</summary>
internal sealed record HttpReply(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public bool IsSuccess => Status is >= 200 and < 300;
}
