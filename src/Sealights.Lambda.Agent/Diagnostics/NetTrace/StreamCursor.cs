using System.Buffers.Binary;

namespace Sealights.Lambda.Agent.Diagnostics.NetTrace;

/// <summary>
/// Buffered forward-only reading of a session stream that knows its position (NetTrace pads
/// blocks to 4-byte stream offsets). Reads block on the socket; a stream that ends early throws
/// <see cref="EndOfStreamException"/>.
/// </summary>
internal sealed class StreamCursor(Stream stream)
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    /// <summary>Bytes consumed since the stream's start.</summary>
    public long Position { get; private set; }

    public byte ReadByte()
    {
        if (_start == _end)
        {
            Fill();
        }

        Position++;
        return _buffer[_start++];
    }

    public int ReadInt32()
    {
        Span<byte> bytes = stackalloc byte[4];
        ReadExactly(bytes);
        return BinaryPrimitives.ReadInt32LittleEndian(bytes);
    }

    public void ReadExactly(Span<byte> destination)
    {
        while (destination.Length > 0)
        {
            if (_start == _end)
            {
                // Large reads (blocks) go straight to the destination once the buffer is empty.
                if (destination.Length >= _buffer.Length)
                {
                    var direct = stream.Read(destination);
                    if (direct == 0)
                    {
                        throw new EndOfStreamException("the trace stream ended mid-object");
                    }

                    Position += direct;
                    destination = destination[direct..];
                    continue;
                }

                Fill();
            }

            var count = Math.Min(destination.Length, _end - _start);
            _buffer.AsSpan(_start, count).CopyTo(destination);
            _start += count;
            Position += count;
            destination = destination[count..];
        }
    }

    public void Skip(int count)
    {
        Span<byte> sink = stackalloc byte[Math.Min(count, 256)];
        while (count > 0)
        {
            var step = Math.Min(count, sink.Length);
            ReadExactly(sink[..step]);
            count -= step;
        }
    }

    private void Fill()
    {
        _start = 0;
        _end = stream.Read(_buffer, 0, _buffer.Length);
        if (_end <= 0)
        {
            _end = 0;
            throw new EndOfStreamException("the trace stream ended mid-object");
        }
    }
}
