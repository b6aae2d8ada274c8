using System.Buffers.Binary;
using System.Text;
using Sealights.Lambda.Agent.Diagnostics.NetTrace;

namespace Sealights.Lambda.Agent.Tests.Diagnostics;

/// <summary>
/// Writes NetTrace V4/V5 streams from the format's description (perfview's NetTraceFormat_v5.md,
/// what dotnet/runtime's EventPipe writes), not from the reader: magic, FastSerialization
/// objects, blocks padded to 4-byte stream offsets, compressed or fixed-size event headers.
/// </summary>
internal sealed class NetTraceStream
{
    public static readonly DateTime DefaultSync = new(2026, 12, 7, 4, 37, 6, 319, DateTimeKind.Utc);
    public const long DefaultSyncQpc = 1_000_000;
    public const long DefaultFrequency = 1_000_000_000;

    private readonly List<byte> _bytes = [];

    public NetTraceStream(int processId = 4242, DateTime? sync = null, long syncQpc = DefaultSyncQpc, long frequency = DefaultFrequency, int traceVersion = 4, string magic = "Nettrace", string serializer = "!FastSerialization.1")
    {
        _bytes.AddRange(Encoding.ASCII.GetBytes(magic));
        Int32(serializer.Length);
        _bytes.AddRange(Encoding.UTF8.GetBytes(serializer));
        _bytes.Add(5);
        TypeHeader("Trace", traceVersion);
        _bytes.AddRange(SystemTime(sync ?? DefaultSync));
        Int64(syncQpc);
        Int64(frequency);
        Int32(8);
        Int32(processId);
        Int32(2);
        Int32(1_000_000);
        _bytes.Add(6);
    }

    public int Length => _bytes.Count;

    /// <summary>A SYSTEMTIME: year, month, day of week, day, hour, minute, second, milliseconds, 16 bits each.</summary>
    public static byte[] SystemTime(DateTime time) => SystemTime(time.Year, time.Month, (int)time.DayOfWeek, time.Day, time.Hour, time.Minute, time.Second, time.Millisecond);

    public static byte[] SystemTime(params int[] parts)
    {
        var bytes = new byte[16];
        for (var i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 2), (short)parts[i]);
        }

        return bytes;
    }

    /// <summary>A block object: type header, size, padding to a 4-byte stream offset, content, end tag.</summary>
    public NetTraceStream Block(string typeName, byte[] content, int? claimedSize = null)
    {
        _bytes.Add(5);
        TypeHeader(typeName, 2);
        Int32(claimedSize ?? content.Length);
        while (_bytes.Count % 4 != 0)
        {
            _bytes.Add(0);
        }

        _bytes.AddRange(content);
        _bytes.Add(6);
        return this;
    }

    public NetTraceStream Metadata(params byte[][] blobs) => Block("MetadataBlock", EventBlock(compressed: true, blobs));

    public NetTraceStream Events(params byte[][] blobs) => Block("EventBlock", EventBlock(compressed: true, blobs));

    public NetTraceStream Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public byte[] End() => [.. _bytes, 1];

    /// <summary>An event or metadata block's content: header size, flags (1: compressed headers), min/max timestamps, then the blobs.</summary>
    public static byte[] EventBlock(bool compressed, byte[][] blobs, int headerSize = 20)
    {
        var content = new List<byte>();
        content.AddRange(BitConverter.GetBytes((short)headerSize));
        content.AddRange(BitConverter.GetBytes((short)(compressed ? 1 : 0)));
        content.AddRange(new byte[headerSize - 4]);
        foreach (var blob in blobs)
        {
            content.AddRange(blob);
            // Fixed-size headers pad each blob to a 4-byte offset; the block starts at one.
            while (!compressed && content.Count % 4 != 0)
            {
                content.Add(0);
            }
        }

        return [.. content];
    }

    /// <summary>A compressed event header and its payload; null fields are left out (carried over from the previous blob).</summary>
    public static byte[] Compressed(
        byte[] payload,
        long timestampDelta,
        int? metadataId = null,
        (uint SequenceDelta, ulong CaptureThreadId, uint Processor)? captureThread = null,
        ulong? threadId = null,
        uint? stackId = null,
        bool activityIds = false,
        bool withPayloadSize = true)
    {
        var flags = (metadataId is null ? 0 : 1) | (captureThread is null ? 0 : 2) | (threadId is null ? 0 : 4)
            | (stackId is null ? 0 : 8) | (activityIds ? 16 | 32 : 0) | (withPayloadSize ? 128 : 0);
        var bytes = new List<byte> { (byte)flags };
        if (metadataId is { } id)
        {
            VarUInt(bytes, (ulong)id);
        }

        if (captureThread is { } capture)
        {
            VarUInt(bytes, capture.SequenceDelta);
            VarUInt(bytes, capture.CaptureThreadId);
            VarUInt(bytes, capture.Processor);
        }

        if (threadId is { } thread)
        {
            VarUInt(bytes, thread);
        }

        if (stackId is { } stack)
        {
            VarUInt(bytes, stack);
        }

        VarUInt(bytes, (ulong)timestampDelta);
        if (activityIds)
        {
            bytes.AddRange(Enumerable.Repeat((byte)0xAA, 32));
        }

        if (withPayloadSize)
        {
            VarUInt(bytes, (ulong)payload.Length);
        }

        bytes.AddRange(payload);
        return [.. bytes];
    }

    /// <summary>A fixed-size (uncompressed) event header and its payload, without the padding the block adds.</summary>
    public static byte[] Uncompressed(byte[] payload, int metadataId, int sequence, long captureThreadId, long timestamp, bool sorted = false)
    {
        var header = new byte[80];
        BinaryPrimitives.WriteInt32LittleEndian(header, 76 + payload.Length);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), metadataId | (sorted ? int.MinValue : 0));
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), sequence);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(12), captureThreadId + 1000); // the thread it describes
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(20), captureThreadId);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(28), 1); // processor
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(32), 7); // stack id
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(36), timestamp);
        header.AsSpan(44, 32).Fill(0xAA); // activity ids
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(76), payload.Length);
        return [.. header, .. payload];
    }

    /// <summary>A metadata record: id, provider, event id, event name, keywords, version, level, no fields.</summary>
    public static byte[] MetadataRecord(int id, string provider, int eventId, int version, string eventName = "")
    {
        var bytes = new List<byte>();
        bytes.AddRange(BitConverter.GetBytes(id));
        bytes.AddRange(Encoding.Unicode.GetBytes(provider + "\0"));
        bytes.AddRange(BitConverter.GetBytes(eventId));
        bytes.AddRange(Encoding.Unicode.GetBytes(eventName + "\0"));
        bytes.AddRange(BitConverter.GetBytes(0x8L)); // keywords
        bytes.AddRange(BitConverter.GetBytes(version));
        bytes.AddRange(BitConverter.GetBytes(5)); // level
        bytes.AddRange(BitConverter.GetBytes(0)); // field count
        return [.. bytes];
    }

    /// <summary>A sequence point block's content: timestamp, thread count, then (thread id, last sequence number) pairs.</summary>
    public static byte[] SequencePoints(long timestamp, params (long Thread, int Sequence)[] threads) =>
        SequencePoints(timestamp, threads.Length, threads);

    public static byte[] SequencePoints(long timestamp, int claimedCount, params (long Thread, int Sequence)[] threads)
    {
        var bytes = new List<byte>();
        bytes.AddRange(BitConverter.GetBytes(timestamp));
        bytes.AddRange(BitConverter.GetBytes(claimedCount));
        foreach (var (thread, sequence) in threads)
        {
            bytes.AddRange(BitConverter.GetBytes(thread));
            bytes.AddRange(BitConverter.GetBytes(sequence));
        }

        return [.. bytes];
    }

    public static void VarUInt(List<byte> bytes, ulong value)
    {
        do
        {
            var low = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value == 0 ? low : (byte)(low | 0x80));
        }
        while (value != 0);
    }

    private void TypeHeader(string name, int version)
    {
        _bytes.Add(5);
        _bytes.Add(1);
        Int32(version);
        Int32(version);
        Int32(name.Length);
        _bytes.AddRange(Encoding.UTF8.GetBytes(name));
        _bytes.Add(6);
    }

    private void Int32(int value) => _bytes.AddRange(BitConverter.GetBytes(value));

    private void Int64(long value) => _bytes.AddRange(BitConverter.GetBytes(value));
}

/// <summary>What a reader handed over: the events of the agent's providers, copied.</summary>
internal sealed class RecordingHandler : INetTraceEventHandler
{
    public List<int> ProcessIds { get; } = [];

    public List<Seen> Events { get; } = [];

    public void OnTraceStarted(int processId) => ProcessIds.Add(processId);

    public void OnEvent(in NetTraceEvent traceEvent) =>
        Events.Add(new Seen(traceEvent.Provider, traceEvent.EventId, traceEvent.Version, traceEvent.TimestampUtc, traceEvent.Payload.ToArray()));

    public sealed record Seen(TraceProvider Provider, int EventId, int Version, DateTime TimestampUtc, byte[] Payload)
    {
        /// <summary>Everything but the payload's identity: what a test compares.</summary>
        public (TraceProvider, int, int, DateTime, string) Value => (Provider, EventId, Version, TimestampUtc, Convert.ToHexString(Payload));
    }

    public static (NetTraceReader Reader, RecordingHandler Handler) Read(byte[] stream) => Read(new MemoryStream(stream));

    public static (NetTraceReader Reader, RecordingHandler Handler) Read(Stream stream)
    {
        var handler = new RecordingHandler();
        var reader = new NetTraceReader(stream);
        reader.Read(handler);
        return (reader, handler);
    }
}
