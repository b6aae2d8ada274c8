using System.Buffers.Binary;
using System.Text;

namespace Sealights.Lambda.Agent.Diagnostics.NetTrace;

/// <summary>
/// Reads one EventPipe session's stream in the NetTrace format (versions 4 and 5: what .NET 6 to
/// 10 runtimes write to a diagnostic-port session) and hands each event of the CLR's two
/// providers (and the probes library's) to a handler, with its id, version, time and raw payload.
/// <para>
/// Why not TraceEvent: its reader allocates per event, loads OpenSSL to hash every provider name
/// into a GUID (3.5 MB of resident libraries in the agent), and parses far more than the
/// handful of events the agent needs; measured on a cold start it doubled the agent's peak RSS
/// and its CPU time. This reader decodes headers only, keeps the current block in one reused
/// buffer and allocates nothing per event.
/// </para>
/// Format: https://github.com/microsoft/perfview/blob/main/src/TraceEvent/EventPipe/NetTraceFormat_v5.md
/// (magic, FastSerialization objects: Trace, then MetadataBlock / EventBlock / StackBlock /
/// SPBlock in any order, then a NullReference tag).
/// </summary>
internal sealed class NetTraceReader
{
    public const string RuntimeProviderName = "Microsoft-Windows-DotNETRuntime";
    public const string RundownProviderName = "Microsoft-Windows-DotNETRuntimeRundown";
    public const string CoverageProviderName = "Sealights-Coverage";

    private const byte NullReferenceTag = 1;
    private const byte BeginPrivateObjectTag = 5;
    private const byte EndObjectTag = 6;

    // A block larger than this is not something a runtime writes (its blocks are ~100 KB): the
    // stream is not what it claims to be.
    private const int MaxBlockSize = 64 * 1024 * 1024;

    private readonly StreamCursor _input;
    private readonly Dictionary<int, EventMetadata> _metadata = [];
    private readonly LostEventCounter _lost = new();
    private byte[] _block = new byte[128 * 1024];
    private TraceClock _clock;

    public NetTraceReader(Stream stream)
    {
        _input = new StreamCursor(stream);
    }

    /// <summary>Events read so far (metadata records not counted).</summary>
    public long EventsRead { get; private set; }

    /// <summary>Events the runtime dropped, from gaps in the per-thread sequence numbers.</summary>
    public long EventsLost => _lost.Lost;

    /// <summary>When the session started (the trace's sync time), UTC.</summary>
    public DateTime SessionStartUtc => _clock.SyncTimeUtc;

    /// <summary>Reads the stream to its end, calling <paramref name="handler"/> for each CLR event on this thread.</summary>
    /// <exception cref="EndOfStreamException">The stream ended mid-object (the process was killed).</exception>
    /// <exception cref="InvalidDataException">The stream is not NetTrace V4/V5.</exception>
    public void Read(INetTraceEventHandler handler)
    {
        try
        {
            ReadObjects(handler);
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentOutOfRangeException or OverflowException)
        {
            // A record that claims more than its block holds: the stream is corrupt, not the agent.
            throw new InvalidDataException($"corrupt NetTrace stream at byte {_input.Position}: {e.Message}", e);
        }
    }

    private void ReadObjects(INetTraceEventHandler handler)
    {
        ReadStreamHeader();
        while (true)
        {
            var tag = _input.ReadByte();
            if (tag == NullReferenceTag)
            {
                return;
            }

            Expect(tag, BeginPrivateObjectTag, "an object");
            var (typeName, version) = ReadTypeHeader();
            switch (typeName)
            {
                case "Trace":
                    ReadTraceObject(version, handler);
                    break;
                case "MetadataBlock":
                    ParseEventBlock(ReadBlock(), handler, isMetadata: true);
                    break;
                case "EventBlock":
                    ParseEventBlock(ReadBlock(), handler, isMetadata: false);
                    break;
                case "SPBlock":
                    ParseSequencePoints(ReadBlock());
                    break;
                case "StackBlock":
                    // Stacks are never requested; a block's size is all it takes to skip one.
                    ReadBlock();
                    break;
                default:
                    throw new InvalidDataException($"unknown NetTrace object '{typeName}'");
            }

            Expect(_input.ReadByte(), EndObjectTag, "the end of an object");
        }
    }

    private static void Expect(byte actual, byte expected, string what)
    {
        if (actual != expected)
        {
            throw new InvalidDataException($"not a NetTrace stream: expected {what} (tag {expected}), found {actual}");
        }
    }

    private void ReadStreamHeader()
    {
        Span<byte> magic = stackalloc byte[8];
        _input.ReadExactly(magic);
        if (!magic.SequenceEqual("Nettrace"u8))
        {
            throw new InvalidDataException("not a NetTrace stream (no 'Nettrace' magic)");
        }

        var serializer = ReadString(64);
        if (serializer != "!FastSerialization.1")
        {
            throw new InvalidDataException($"unsupported serialization '{serializer}'");
        }
    }

    private (string Name, int Version) ReadTypeHeader()
    {
        Expect(_input.ReadByte(), BeginPrivateObjectTag, "a type");
        Expect(_input.ReadByte(), NullReferenceTag, "the type of a type");
        var version = _input.ReadInt32();
        _ = _input.ReadInt32(); // minimum reader version
        var name = ReadString(64);
        Expect(_input.ReadByte(), EndObjectTag, "the end of a type");
        return (name, version);
    }

    private string ReadString(int maxLength)
    {
        var length = _input.ReadInt32();
        if (length < 0 || length > maxLength)
        {
            throw new InvalidDataException($"implausible string length {length}");
        }

        Span<byte> bytes = stackalloc byte[length];
        _input.ReadExactly(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    private void ReadTraceObject(int version, INetTraceEventHandler handler)
    {
        // Version 4 is the Trace object of NetTrace V4 and V5; V6 changed the whole layout.
        if (version != 4)
        {
            throw new InvalidDataException($"NetTrace Trace object version {version} is not supported (only 4)");
        }

        Span<byte> fields = stackalloc byte[16 + 8 + 8 + 16];
        _input.ReadExactly(fields);
        // SyncTimeUTC is a SYSTEMTIME: year, month, day of week, day, hour, minute, second, ms.
        var syncTime = SystemTime(fields);
        _clock = new TraceClock(
            syncTime,
            BinaryPrimitives.ReadInt64LittleEndian(fields[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(fields[24..]));
        // PointerSize | ProcessId | NumberOfProcessors | ExpectedCPUSamplingRate
        handler.OnTraceStarted(BinaryPrimitives.ReadInt32LittleEndian(fields[36..]));
    }

    /// <summary>A SYSTEMTIME (year, month, day of week, day, hour, minute, second, ms) checked field by field: a corrupt one is the stream's fault.</summary>
    private static DateTime SystemTime(ReadOnlySpan<byte> fields)
    {
        var (year, month, day) = (Part(fields, 0), Part(fields, 1), Part(fields, 3));
        var (hour, minute, second, millisecond) = (Part(fields, 4), Part(fields, 5), Part(fields, 6), Part(fields, 7));
        if (year is < 1 or > 9999 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour is < 0 or > 23 || minute is < 0 or > 59 || second is < 0 or > 59 || millisecond is < 0 or > 999)
        {
            throw new InvalidDataException($"the trace's sync time is not a date ({year}-{month}-{day} {hour}:{minute}:{second}.{millisecond})");
        }

        return new DateTime(year, month, day, hour, minute, second, millisecond, DateTimeKind.Utc);
    }

    private static short Part(ReadOnlySpan<byte> systemTime, int index) => BinaryPrimitives.ReadInt16LittleEndian(systemTime[(index * 2)..]);

    /// <summary>
    /// Reads a block object's payload (size, padding to a 4-byte stream offset, content) into the
    /// shared buffer. The buffer grows as the bytes arrive, never ahead of them: a stream that
    /// claims a large block and then ends costs what it sent, not what it claimed.
    /// </summary>
    private ReadOnlySpan<byte> ReadBlock()
    {
        var size = _input.ReadInt32();
        if (size < 0 || size > MaxBlockSize)
        {
            throw new InvalidDataException($"implausible block size {size}");
        }

        _input.Skip((int)((4 - (_input.Position % 4)) % 4));
        var filled = 0;
        while (filled < size)
        {
            if (filled == _block.Length)
            {
                Array.Resize(ref _block, (int)Math.Min(size, 2L * _block.Length));
            }

            var step = Math.Min(size, _block.Length) - filled;
            _input.ReadExactly(_block.AsSpan(filled, step));
            filled += step;
        }

        return _block.AsSpan(0, size);
    }

    private void ParseEventBlock(ReadOnlySpan<byte> block, INetTraceEventHandler handler, bool isMetadata)
    {
        if (block.Length < 4)
        {
            throw new InvalidDataException($"an event block of {block.Length} bytes has no header");
        }

        var headerSize = BinaryPrimitives.ReadInt16LittleEndian(block);
        var flags = BinaryPrimitives.ReadInt16LittleEndian(block[2..]);
        if (headerSize < 4 || headerSize > block.Length)
        {
            throw new InvalidDataException($"implausible block header size {headerSize}");
        }

        var compressed = (flags & 1) != 0;
        var header = default(EventHeader);
        var offset = (int)headerSize;
        while (offset < block.Length)
        {
            var payloadStart = compressed
                ? EventHeader.ReadCompressed(block, offset, ref header)
                : EventHeader.ReadUncompressed(block, offset, ref header);
            // 64-bit: a claimed size near int.MaxValue must not wrap the end below the block's.
            var payloadEnd = (long)payloadStart + header.PayloadSize;
            if (header.PayloadSize < 0 || payloadStart > block.Length || payloadEnd > block.Length)
            {
                throw new InvalidDataException("an event's header or payload runs past its block");
            }

            var payload = block[payloadStart..(int)payloadEnd];
            if (isMetadata)
            {
                ReadMetadata(payload);
            }
            else
            {
                EventsRead++;
                _lost.Observe(header.CaptureThreadId, header.SequenceNumber);
                if (_metadata.TryGetValue(header.MetadataId, out var metadata) && metadata.Provider != TraceProvider.Other)
                {
                    handler.OnEvent(new NetTraceEvent(metadata.Provider, metadata.EventId, metadata.Version, _clock.ToUtc(header.Timestamp), payload));
                }
            }

            // Uncompressed blobs are padded to a 4-byte offset; compressed ones are packed.
            offset = compressed ? (int)payloadEnd : ((int)payloadEnd + 3) & ~3;
        }
    }

    /// <summary>A metadata record: id, provider name, event id, event name, keywords, version, level, then fields (not needed).</summary>
    private void ReadMetadata(ReadOnlySpan<byte> payload)
    {
        var id = BinaryPrimitives.ReadInt32LittleEndian(Need(payload, 4));
        var rest = payload[4..];
        var provider = Utf16.ReadNullTerminated(ref rest);
        var eventId = BinaryPrimitives.ReadInt32LittleEndian(Need(rest, 4));
        rest = rest[4..];
        Utf16.SkipNullTerminated(ref rest);
        var version = BinaryPrimitives.ReadInt32LittleEndian(Need(rest, 12)[8..]);
        var kind = provider switch
        {
            RuntimeProviderName => TraceProvider.Runtime,
            RundownProviderName => TraceProvider.Rundown,
            CoverageProviderName => TraceProvider.Coverage,
            _ => TraceProvider.Other,
        };
        _metadata[id] = new EventMetadata(kind, eventId, version);
    }

    /// <summary>A sequence point: time, then each thread's last sequence number (a lower bound): a gap means dropped events.</summary>
    private void ParseSequencePoints(ReadOnlySpan<byte> block)
    {
        var count = BinaryPrimitives.ReadInt32LittleEndian(Need(block, 12)[8..]);
        var entries = block[12..];
        for (var i = 0; i < count && entries.Length >= 12; i++, entries = entries[12..])
        {
            _lost.AtSequencePoint(BinaryPrimitives.ReadInt64LittleEndian(entries), BinaryPrimitives.ReadInt32LittleEndian(entries[8..]));
        }
    }

    /// <summary><paramref name="span"/> when it holds at least <paramref name="bytes"/>; else the record is cut.</summary>
    private static ReadOnlySpan<byte> Need(ReadOnlySpan<byte> span, int bytes) =>
        span.Length >= bytes ? span : throw new InvalidDataException($"a record of {span.Length} bytes where {bytes} are needed");

    private readonly record struct EventMetadata(TraceProvider Provider, int EventId, int Version);

    /// <summary>Event timestamps are the runtime's QPC ticks; the Trace object pairs one with UTC.</summary>
    private readonly record struct TraceClock(DateTime SyncTimeUtc, long SyncTimeQpc, long QpcFrequency)
    {
        public DateTime ToUtc(long qpc)
        {
            if (QpcFrequency <= 0)
            {
                return SyncTimeUtc;
            }

            // The offset in double, checked against the room DateTime leaves: a corrupt timestamp
            // or frequency must not reach AddTicks' own ArgumentOutOfRangeException.
            var offset = (long)Math.Clamp((qpc - SyncTimeQpc) * (TimeSpan.TicksPerSecond / (double)QpcFrequency), -DateTime.MaxValue.Ticks, DateTime.MaxValue.Ticks);
            if (offset < -SyncTimeUtc.Ticks || offset > DateTime.MaxValue.Ticks - SyncTimeUtc.Ticks)
            {
                throw new InvalidDataException($"an event's timestamp {qpc} is outside any date");
            }

            return SyncTimeUtc.AddTicks(offset);
        }
    }
}
