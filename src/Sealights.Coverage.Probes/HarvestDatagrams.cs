using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Sealights.Coverage.Probes;

/// <summary>
/// The quick way out for a harvest at an invocation's end (README.md, "Harvest datagrams"): one
/// Unix datagram to the agent's socket, sent without blocking. EventPipe writes a session's events
/// out only on its writer thread's next pass, and that thread sleeps 100 ms after waking (.NET 8
/// and 10, <c>ep-session.c</c>): an agent waiting for a harvest in the standing session waits
/// ~100 ms, a datagram is there at once. When one cannot go (too big, the agent's queue full, the
/// socket gone) the caller writes the same hits as events, so nothing is lost.
/// </summary>
internal sealed class HarvestDatagrams : IDisposable
{
    /// <summary>"SLH1", the first four bytes of every datagram.</summary>
    public const uint Magic = 0x31484C53;

    /// <summary>Above this a harvest goes as events: about 32,000 methods hit in one invocation.</summary>
    public const int MaxBytes = 128 * 1024;

    private readonly Socket _socket;
    private byte[] _buffer = new byte[4096];
    private int _length;

    private HarvestDatagrams(Socket socket) => _socket = socket;

    /// <summary>A channel to the agent's datagram socket at <paramref name="path"/>, or null when there is none. Never throws.</summary>
    public static HarvestDatagrams? Connect(string path)
    {
        Socket? socket = null;
        try
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            // Room for the largest datagram (the kernel caps the value at its net.core.wmem_max).
            socket.SendBufferSize = 2 * MaxBytes;
            socket.Connect(new UnixDomainSocketEndPoint(path));
            // Never wait on the agent: a full queue sends the harvest as events instead.
            socket.Blocking = false;
            return new HarvestDatagrams(socket);
        }
        catch
        {
            socket?.Dispose();
            return null;
        }
    }

    /// <summary>Starts a datagram: the magic and when the harvest was taken (UTC ticks).</summary>
    public void Begin(long utcTicks)
    {
        _length = 0;
        Reserve(12, out _);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, Magic);
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(4), utcTicks);
    }

    /// <summary>One record: the event id and its payload, laid out as the EventPipe event's (README.md, "Flush protocol").</summary>
    public bool AddModuleHits(int sequence, int chunk, string assemblyName, Guid mvid, int methodDefCount, ReadOnlySpan<byte> indices)
    {
        if (!Record(CoverageEventSource.ModuleHitsId, 4 + 4 + ((assemblyName.Length + 1) * 2) + 16 + 4 + 4 + indices.Length, out var span))
        {
            return false;
        }

        BinaryPrimitives.WriteInt32LittleEndian(span, sequence);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], chunk);
        var next = 8 + WriteText(span[8..], assemblyName);
        mvid.TryWriteBytes(span[next..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[(next + 16)..], methodDefCount);
        BinaryPrimitives.WriteInt32LittleEndian(span[(next + 20)..], indices.Length);
        indices.CopyTo(span[(next + 24)..]);
        return true;
    }

    /// <summary>The harvest's last record.</summary>
    public bool AddInvocationEnded(int sequence, string requestId, int chunks, int modules, int methods)
    {
        if (!Record(CoverageEventSource.InvocationEndedId, 4 + ((requestId.Length + 1) * 2) + 12, out var span))
        {
            return false;
        }

        BinaryPrimitives.WriteInt32LittleEndian(span, sequence);
        var next = 4 + WriteText(span[4..], requestId);
        BinaryPrimitives.WriteInt32LittleEndian(span[next..], chunks);
        BinaryPrimitives.WriteInt32LittleEndian(span[(next + 4)..], modules);
        BinaryPrimitives.WriteInt32LittleEndian(span[(next + 8)..], methods);
        return true;
    }

    // A record's header (event id, payload length) written; its payload's room returned, or false when it does not fit.
    private bool Record(int eventId, int payloadLength, out Span<byte> payload)
    {
        if (!Reserve(8 + payloadLength, out var at))
        {
            payload = default;
            return false;
        }

        var span = _buffer.AsSpan(at, 8 + payloadLength);
        BinaryPrimitives.WriteInt32LittleEndian(span, eventId);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], payloadLength);
        payload = span[8..];
        return true;
    }

    /// <summary>Sends the datagram whole, or not at all (false). Never blocks, never throws.</summary>
    public bool Send()
    {
        try
        {
            return _socket.Send(_buffer, 0, _length, SocketFlags.None) == _length;
        }
        catch
        {
            return false;
        }
    }

    public void Dispose() => _socket.Dispose();

    // UTF-16LE with a terminating zero, as EventPipe writes a string.
    private static int WriteText(Span<byte> span, string text)
    {
        MemoryMarshal.AsBytes(text.AsSpan()).CopyTo(span);
        var end = text.Length * 2;
        span[end] = 0;
        span[end + 1] = 0;
        return end + 2;
    }

    private bool Reserve(int size, out int at)
    {
        at = _length;
        if (_length + size > MaxBytes)
        {
            return false;
        }

        if (_length + size > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Min(MaxBytes, Math.Max(_buffer.Length * 2, _length + size)));
        }

        _length += size;
        return true;
    }
}
