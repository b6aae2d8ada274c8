using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>
/// Reads HTTP/1.1 messages (start line, headers, body by Content-Length or chunked) from one
/// socket with blocking reads, for both ends the agent speaks on the sandbox's loopback: the
/// Extensions API client (<see cref="LoopbackHttpConnection"/>) and the Telemetry API receiver
/// (<see cref="TelemetryListener"/>). Bodies are bounded: these APIs carry small JSON documents.
/// <para>
/// Contract: whatever the peer sends, the only exceptions are <see cref="IOException"/> (a cut,
/// malformed or oversized message: <see cref="MalformedHttpException"/>) and the socket's own
/// <see cref="SocketException"/>/<see cref="ObjectDisposedException"/>. Sizes are parsed as
/// unsigned 64-bit numbers and compared with the limit before anything is allocated, so no claimed
/// size can overflow, go negative or make the reader allocate more than the limit.
/// </para>
/// </summary>
internal sealed class HttpMessageReader(Socket socket, int maxBodyBytes)
{
    /// <summary>Longest start, header or chunk-size line (the agent's peers send short ones).</summary>
    public const int MaxLineBytes = 8 * 1024;

    /// <summary>Most header lines in one message.</summary>
    public const int MaxHeaderLines = 100;

    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    /// <summary>The next line without its CR LF; null when the peer closed the connection before it began.</summary>
    public string? ReadLineOrEnd()
    {
        if (_start == _end && !Fill())
        {
            return null;
        }
        return ReadLine();
    }

    public string ReadLine()
    {
        var line = new StringBuilder();
        while (true)
        {
            if (_start == _end && !Fill())
            {
                throw new IOException("the connection closed mid-message");
            }
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            var stop = newline < 0 ? _end : newline;
            line.Append(Encoding.ASCII.GetString(_buffer, _start, stop - _start));
            if (line.Length > MaxLineBytes)
            {
                throw new MalformedHttpException($"a line over {MaxLineBytes} bytes");
            }
            if (newline >= 0)
            {
                _start = newline + 1;
                return line.ToString().TrimEnd('\r');
            }
            _start = _end;
        }
    }

    /// <summary>Header lines up to the empty line; names are case-insensitive, a repeated name keeps the last value.</summary>
    public Dictionary<string, string> ReadHeaders()
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var line = ReadLine(); line.Length > 0; line = ReadLine())
        {
            if (headers.Count >= MaxHeaderLines)
            {
                throw new MalformedHttpException($"over {MaxHeaderLines} header lines");
            }
            var colon = line.IndexOf(':');
            if (colon > 0)
            {
                headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }
        return headers;
    }

    /// <summary>
    /// The body the headers announce. Without Content-Length or chunked encoding a response's body
    /// runs to the end of the connection (<paramref name="toEndWithoutLength"/>), a request has none.
    /// </summary>
    public byte[] ReadBody(IReadOnlyDictionary<string, string> headers, bool toEndWithoutLength)
    {
        if (headers.TryGetValue("transfer-encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            var body = new List<byte>();
            while (true)
            {
                var sizeText = ReadLine().Split(';')[0].Trim();
                if (!ulong.TryParse(sizeText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size))
                {
                    throw new MalformedHttpException($"a chunk size that is not a hexadecimal number: '{Shorten(sizeText)}'");
                }
                if (size == 0)
                {
                    // Trailers, if any, end with an empty line.
                    var trailers = 0;
                    while (ReadLine().Length > 0)
                    {
                        if (++trailers > MaxHeaderLines)
                        {
                            throw new MalformedHttpException($"over {MaxHeaderLines} trailer lines");
                        }
                    }
                    return [.. body];
                }
                body.AddRange(ReadExactly(CheckRoom(body.Count, size)));
                ReadLine();
            }
        }
        if (headers.TryGetValue("content-length", out var lengthText))
        {
            if (!ulong.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            {
                throw new MalformedHttpException($"a Content-Length that is not a number: '{Shorten(lengthText)}'");
            }
            return ReadExactly(CheckRoom(0, length));
        }
        if (!toEndWithoutLength)
        {
            return [];
        }
        var rest = new List<byte>();
        while (Fill())
        {
            CheckRoom(rest.Count, (ulong)(_end - _start));
            rest.AddRange(_buffer.AsSpan(_start, _end - _start));
            _start = _end;
        }
        return [.. rest];
    }

    private static string Shorten(string text) => text.Length <= 20 ? text : text[..20] + "…";

    /// <summary>
    /// <paramref name="more"/> as an int when it fits in the room the limit leaves after
    /// <paramref name="read"/> bytes. Compared with the room left, never as a sum: a claimed size
    /// near 2^64 must not wrap.
    /// </summary>
    private int CheckRoom(int read, ulong more)
    {
        if (more > (ulong)(maxBodyBytes - read))
        {
            throw new MalformedHttpException($"a body over {maxBodyBytes} bytes");
        }
        return (int)more;
    }

    /// <summary>Whether bytes of a next message are already read from the socket (a pipelining peer).</summary>
    public bool HasBuffered => _start < _end;

    /// <summary>Reads as the bytes arrive: memory follows what came, not what the peer claimed.</summary>
    private byte[] ReadExactly(int count)
    {
        using var result = new MemoryStream(Math.Min(count, _buffer.Length));
        while (result.Length < count)
        {
            if (_start == _end && !Fill())
            {
                throw new IOException("the connection closed mid-body");
            }
            var step = (int)Math.Min(count - result.Length, _end - _start);
            result.Write(_buffer, _start, step);
            _start += step;
        }
        return result.ToArray();
    }

    private bool Fill()
    {
        _start = 0;
        _end = socket.Receive(_buffer, SocketFlags.None);
        return _end > 0;
    }
}

/// <summary>A message the reader refuses: malformed, or over one of its limits.</summary>
internal sealed class MalformedHttpException(string message) : IOException(message);
