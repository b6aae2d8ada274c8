using Sealights.Lambda.Agent.Diagnostics.NetTrace;
using static Sealights.Lambda.Agent.Tests.Diagnostics.NetTraceStream;

namespace Sealights.Lambda.Agent.Tests.Diagnostics;

/// <summary>
/// The NetTrace reader at the edges of its checks, where a bound one off or a refusal for the
/// wrong reason would still pass the format tests: empty payloads at a block's end, blocks that
/// grow as they arrive, and what each refusal says (the one log line an operator gets).
/// </summary>
public sealed class NetTraceReaderEdgeTests
{
    private static NetTraceStream RuntimeMetadata() =>
        new NetTraceStream().Metadata(Compressed(MetadataRecord(1, NetTraceReader.RuntimeProviderName, 143, 0), 0));

    [Fact]
    public void An_event_with_no_payload_at_the_very_end_of_its_block_is_read()
    {
        var stream = RuntimeMetadata().Events(Compressed([7], 0, metadataId: 1), Compressed([], 0)).End();

        var (reader, handler) = RecordingHandler.Read(stream);

        Assert.Equal(2, reader.EventsRead);
        Assert.Equal(["07", ""], handler.Events.Select(e => Convert.ToHexString(e.Payload)));
    }

    [Fact]
    public void An_uncompressed_event_with_no_payload_at_the_end_of_its_block_is_read()
    {
        var metadata = EventBlock(compressed: false, [Uncompressed(MetadataRecord(1, NetTraceReader.RuntimeProviderName, 80, 0), 0, 0, 0, DefaultSyncQpc)]);
        var events = EventBlock(compressed: false, [Uncompressed([1, 2], 1, 1, 30, DefaultSyncQpc), Uncompressed([], 1, 2, 30, DefaultSyncQpc)]);
        var stream = new NetTraceStream().Block("MetadataBlock", metadata).Block("EventBlock", events).End();

        var (_, handler) = RecordingHandler.Read(stream);

        Assert.Equal(["0102", ""], handler.Events.Select(e => Convert.ToHexString(e.Payload)));
    }

    [Fact]
    public void An_uncompressed_header_cut_after_a_first_event_is_refused()
    {
        // One whole event, then 40 of the next header's 80 bytes: the bound is from where that header starts.
        var events = EventBlock(compressed: false, [Uncompressed([1, 2, 3, 4], 1, 1, 30, DefaultSyncQpc), Uncompressed([], 1, 2, 30, DefaultSyncQpc)[..40]]);
        var stream = new NetTraceStream().Block("EventBlock", events).End();

        var refused = Assert.Throws<InvalidDataException>(() => RecordingHandler.Read(stream));

        Assert.Null(refused.InnerException);
        Assert.Contains("uncompressed event header cut at 40 of 80 bytes", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_block_that_claims_64_MiB_and_ends_after_200_KB_costs_about_what_arrived()
    {
        // The buffer doubles as bytes arrive (128 KB, then 256 KB); it never jumps to the claim.
        var arrived = new byte[200 * 1024];
        var bytes = new NetTraceStream().Block("StackBlock", arrived, claimedSize: 64 * 1024 * 1024).End();
        var stream = new MemoryStream(bytes);
        var allocated = GC.GetAllocatedBytesForCurrentThread();

        Assert.Throws<EndOfStreamException>(() => new NetTraceReader(stream).Read(new RecordingHandler()));

        var cost = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.True(cost < 2 * 1024 * 1024, $"{cost} bytes allocated for {arrived.Length} bytes of a block that claims 64 MiB");
    }

    [Fact]
    public void A_block_of_exactly_64_MiB_is_read()
    {
        // A stack block (its bytes are skipped, not parsed) of the largest size allowed, streamed
        // as zeroes between the bytes before and after it rather than held in the test.
        const int size = 64 * 1024 * 1024;
        var head = RuntimeMetadata().Block("StackBlock", [], claimedSize: size);
        var contentStart = head.Length - 1;
        var bytes = head.Events(Compressed([5], 0, metadataId: 1)).End();

        var (_, handler) = RecordingHandler.Read(new ZeroGapStream(bytes, contentStart, size));

        Assert.Equal("05", Convert.ToHexString(Assert.Single(handler.Events).Payload));
    }

    public static TheoryData<byte[], string> Refusals => new()
    {
        { new NetTraceStream(magic: "Nettracf").End(), "not a NetTrace stream (no 'Nettrace' magic)" },
        { new NetTraceStream(serializer: "!FastSerialization.2").End(), "unsupported serialization '!FastSerialization.2'" },
        { new NetTraceStream(serializer: new string('x', 65)).End(), "implausible string length 65" },
        // The longest and the shortest names read: refused for what they say, not for their length.
        { new NetTraceStream(serializer: new string('x', 64)).End(), $"unsupported serialization '{new string('x', 64)}'" },
        { new NetTraceStream(serializer: "").End(), "unsupported serialization ''" },
        { new NetTraceStream(traceVersion: 5).End(), "NetTrace Trace object version 5 is not supported (only 4)" },
        { new NetTraceStream().Block("Blob", [1, 2, 3, 4]).End(), "unknown NetTrace object 'Blob'" },
        { new NetTraceStream().Raw(4).End(), "not a NetTrace stream: expected an object (tag 5), found 4" },
        { new NetTraceStream().Raw(5, 4).End(), "not a NetTrace stream: expected a type (tag 5), found 4" },
        { new NetTraceStream().Raw(5, 5, 2).End(), "not a NetTrace stream: expected the type of a type (tag 1), found 2" },
        { new NetTraceStream().Raw([5, 5, 1, 2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, .. "Trace"u8, 7]).End(), "not a NetTrace stream: expected the end of a type (tag 6), found 7" },
        { EndTagReplaced(RuntimeMetadata().End(), 7), "not a NetTrace stream: expected the end of an object (tag 6), found 7" },
        { new NetTraceStream().Block("EventBlock", [], claimedSize: -4).End(), "implausible block size -4" },
        { new NetTraceStream().Block("EventBlock", [1, 0, 1]).End(), "an event block of 3 bytes has no header" },
        { new NetTraceStream().Block("EventBlock", [9, 0, 1, 0, 0, 0, 0, 0]).End(), "implausible block header size 9" },
        { new NetTraceStream().Block("SPBlock", new byte[11]).End(), "a record of 11 bytes where 12 are needed" },
        { RuntimeMetadata().Events([.. Compressed([1, 2, 3], 0, metadataId: 1)[..^1]]).End(), "an event's header or payload runs past its block" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Each_refusal_says_what_is_wrong(byte[] stream, string message)
    {
        var refused = Assert.Throws<InvalidDataException>(() => RecordingHandler.Read(stream));

        Assert.Equal(message, refused.Message);
    }

    [Fact]
    public void An_empty_block_is_read_as_one_without_content()
    {
        var stream = RuntimeMetadata().Block("StackBlock", []).Events(Compressed([5], 0, metadataId: 1)).End();

        Assert.Single(RecordingHandler.Read(stream).Handler.Events);
    }

    [Fact]
    public void The_last_thread_of_a_sequence_point_counts_when_it_fills_the_block_exactly()
    {
        // Thread 10 logged 1 event, then the point says it got to 5: 4 lost, told only by the point.
        var stream = RuntimeMetadata()
            .Events(Compressed([1], 0, metadataId: 1, captureThread: (0, 10, 0)))
            .Block("SPBlock", SequencePoints(1, (10, 5)))
            .End();

        Assert.Equal(4, RecordingHandler.Read(stream).Reader.EventsLost);
    }

    [Fact]
    public void A_sync_time_that_is_not_a_date_is_quoted_in_the_refusal()
    {
        var bytes = new NetTraceStream().End();
        SystemTime(2026, 13, 0, 2, 3, 4, 5, 6).CopyTo(bytes, 8 + 4 + 20 + 1 + 2 + 4 + 4 + 4 + 5 + 1);

        var refused = Assert.Throws<InvalidDataException>(() => RecordingHandler.Read(bytes));

        Assert.Equal("the trace's sync time is not a date (2026-13-2 3:4:5.6)", refused.Message);
    }

    [Fact]
    public void A_timestamp_outside_any_date_is_quoted_in_the_refusal()
    {
        var stream = new NetTraceStream(frequency: 1, syncQpc: 0).Metadata(Compressed(MetadataRecord(1, NetTraceReader.RuntimeProviderName, 1, 0), 0))
            .Events(Compressed([1], long.MaxValue / 2, metadataId: 1)).End();

        var refused = Assert.Throws<InvalidDataException>(() => RecordingHandler.Read(stream));

        Assert.Equal($"an event's timestamp {long.MaxValue / 2} is outside any date", refused.Message);
    }

    [Fact]
    public void A_negative_clock_frequency_stamps_every_event_with_the_sync_time()
    {
        var stream = new NetTraceStream(frequency: -5).Metadata(Compressed(MetadataRecord(1, NetTraceReader.RuntimeProviderName, 1, 0), 0))
            .Events(Compressed([1], 123_456_789, metadataId: 1)).End();

        Assert.Equal(DefaultSync, Assert.Single(RecordingHandler.Read(stream).Handler.Events).TimestampUtc);
    }

    private static byte[] EndTagReplaced(byte[] stream, byte tag)
    {
        // The last object's end tag is the byte before the stream's final NullReference tag.
        Assert.Equal(6, stream[^2]);
        stream[^2] = tag;
        return stream;
    }

    /// <summary><paramref name="bytes"/> with <paramref name="gap"/> zero bytes inserted at <paramref name="at"/>, generated as read.</summary>
    private sealed class ZeroGapStream(byte[] bytes, int at, long gap) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => bytes.Length + gap;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int count;
            if (_position < at)
            {
                count = (int)Math.Min(buffer.Length, at - _position);
                bytes.AsSpan((int)_position, count).CopyTo(buffer);
            }
            else if (_position < at + gap)
            {
                count = (int)Math.Min(buffer.Length, at + gap - _position);
                buffer[..count].Clear();
            }
            else
            {
                var from = (int)(_position - gap);
                count = Math.Min(buffer.Length, bytes.Length - from);
                bytes.AsSpan(from, count).CopyTo(buffer);
            }

            _position += count;
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
