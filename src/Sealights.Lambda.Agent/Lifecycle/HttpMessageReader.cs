using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>
/// Reads HTTP/1.1 messages (start line, headers, body by Content-Length or chunked) from one
/// socket with blocking reads, for both ends the agent speaks on the sandbox's loopback: the
/// Extensions API client (<see cref="LoopbackHttpConnection"/>) and the Telemetry API receiver
/// (<see cref="TelemetryListener"/>). Bodies are bounded: these APIs carry small JSON documents.
/// </summary>
internal sealed class HttpMessageReader(Socket socket, int maxBodyBytes)
{
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
            if (line.Length > maxBodyBytes)
            {
                throw new IOException("a line without an end");
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
                var size = int.Parse(ReadLine().Split(';')[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    // Trailers, if any, end with an empty line.
                    while (ReadLine().Length > 0)
                    {
                    }
                    return [.. body];
                }
                CheckSize(body.Count + size);
                body.AddRange(ReadExactly(size));
                ReadLine();
            }
        }
        if (headers.TryGetValue("content-length", out var lengthText))
        {
            var length = int.Parse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture);
            CheckSize(length);
            return ReadExactly(length);
        }
        if (!toEndWithoutLength)
        {
            return [];
        }
        var rest = new List<byte>();
        while (Fill())
        {
            rest.AddRange(_buffer.AsSpan(_start, _end - _start));
            _start = _end;
            CheckSize(rest.Count);
        }
        return [.. rest];
    }

    private void CheckSize(int bytes)
    {
        if (bytes > maxBodyBytes)
        {
            throw new IOException($"a body over {maxBodyBytes} bytes");
        }
    }

    private byte[] ReadExactly(int count)
    {
        var result = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            if (_start == _end && !Fill())
            {
                throw new IOException("the connection closed mid-body");
            }
            var step = Math.Min(count - filled, _end - _start);
            Array.Copy(_buffer, _start, result, filled, step);
            _start += step;
            filled += step;
        }
        return result;
    }

    private bool Fill()
    {
        _start = 0;
        _end = socket.Receive(_buffer, SocketFlags.None);
        return _end > 0;
    }
}
