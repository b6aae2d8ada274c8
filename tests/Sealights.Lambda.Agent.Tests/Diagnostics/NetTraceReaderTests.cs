using Sealights.Lambda.Agent.Diagnostics.NetTrace;
using static Sealights.Lambda.Agent.Tests.Diagnostics.NetTraceStream;

namespace Sealights.Lambda.Agent.Tests.Diagnostics;

/// <summary>
/// The NetTrace reader against streams written from the format's description (NetTraceStream):
/// both header encodings, sequence points and lost events, timestamps, the stream's framing and
/// the bounds of every field. The expected values come from the format, not from the reader.
/// </summary>
public sealed class NetTraceReaderTests
{
    private const string Runtime = NetTraceReader.RuntimeProviderName;
    private const string Rundown = NetTraceReader.RundownProviderName;
    private const string Coverage = NetTraceReader.CoverageProviderName;

    // Metadata blobs carry id 0 in their header; the record inside names the id it defines.
    private static byte[] MetadataBlob(int id, string provider, int eventId, int version) =>
        Compressed(MetadataRecord(id, provider, eventId, version, "Event" + eventId), 0);

    private static NetTraceStream ThreeProviders() => new NetTraceStream().Metadata(
        MetadataBlob(1, Runtime, 143, 1),
        MetadataBlob(2, Rundown, 144, 2),
        MetadataBlob(3, Coverage, 1, 0),
        MetadataBlob(4, "Microsoft-Windows-DotNETRuntimePrivate", 10, 0));

    [Fact]
    public void Compressed_events_reach_the_handler_with_their_provider_id_version_time_and_payload()
    {
        var stream = ThreeProviders().Events(
            Compressed([1, 2, 3], DefaultSyncQpc + (DefaultFrequency / 1000), metadataId: 1, captureThread: (0, 77, 0)),
            Compressed([4, 5], DefaultFrequency / 1000, metadataId: 2),
            Compressed([6], DefaultFrequency, metadataId: 3),
            Compressed([7, 7, 7], 0, metadataId: 4)).End();

        var (reader, handler) = RecordingHandler.Read(stream);

        Assert.Equal([4242], handler.ProcessIds);
        Assert.Equal(4, reader.EventsRead);
        Assert.Equal(0, reader.EventsLost);
        Assert.Equal(DefaultSync, reader.SessionStartUtc);
        Assert.Collection(
            handler.Events,
            e => Assert.Equal((TraceProvider.Runtime, 143, 1, DefaultSync.AddMilliseconds(1), "010203"), e.Value),
            e => Assert.Equal((TraceProvider.Rundown, 144, 2, DefaultSync.AddMilliseconds(2), "0405"), e.Value),
            e => Assert.Equal((TraceProvider.Coverage, 1, 0, DefaultSync.AddMilliseconds(1002), "06"), e.Value));
    }

    [Fact]
    public void A_compressed_header_carries_over_what_it_leaves_out_and_skips_the_fields_the_agent_does_not_use()
    {
        var stream = ThreeProviders().Events(
            Compressed([1], 5_000_000, metadataId: 1, captureThread: (0, 77, 3), threadId: 77, stackId: 9, activityIds: true),
            // Same metadata id, thread and payload size as the one before: only the time changes.
            Compressed([2], 5_000_000, withPayloadSize: false),
            Compressed([3, 3], 0, metadataId: 3, threadId: 1234567890123, stackId: 300, activityIds: true)).End();

        var (reader, handler) = RecordingHandler.Read(stream);

        Assert.Equal(3, reader.EventsRead);
        Assert.Equal(0, reader.EventsLost);
        Assert.Collection(
            handler.Events,
            e => Assert.Equal((TraceProvider.Runtime, 143, 1, DefaultSync.AddMilliseconds(4), "01"), e.Value),
            e => Assert.Equal((TraceProvider.Runtime, 143, 1, DefaultSync.AddMilliseconds(9), "02"), e.Value),
            e => Assert.Equal((TraceProvider.Coverage, 1, 0, DefaultSync.AddMilliseconds(9), "0303"), e.Value));
    }

    [Fact]
    public void Each_block_starts_its_compressed_headers_from_zero()
    {
        var stream = ThreeProviders()
            .Events(Compressed([1], DefaultSyncQpc + (DefaultFrequency / 10), metadataId: 1, captureThread: (0, 5, 0)))
            .Events(Compressed([2], DefaultSyncQpc + (DefaultFrequency / 5), metadataId: 3, captureThread: (0, 5, 0)))
            .End();

        var (reader, handler) = RecordingHandler.Read(stream);

        Assert.Equal([DefaultSync.AddMilliseconds(100), DefaultSync.AddMilliseconds(200)], handler.Events.Select(e => e.TimestampUtc));
        // Both are sequence number 1 of thread 5 (delta 0, plus 1 for an event): a repeat, not a gap.
        Assert.Equal(0, reader.EventsLost);
    }

    [Fact]
    public void Fixed_size_headers_of_V4_streams_are_read_with_their_padding()
    {
        var metadata = EventBlock(compressed: false,
        [
            Uncompressed(MetadataRecord(1, Runtime, 80, 0, "Exception"), 0, 0, 0, DefaultSyncQpc),
            Uncompressed(MetadataRecord(2, Coverage, 3, 1), 0, 0, 0, DefaultSyncQpc),
        ]);
        var events = EventBlock(compressed: false,
        [
            // Payloads of 3 and 1 bytes: each blob is padded to the next 4-byte offset.
            Uncompressed([9, 8, 7], 1, 1, 30, DefaultSyncQpc + (DefaultFrequency / 2), sorted: true),
            Uncompressed([6], 2, 2, 30, DefaultSyncQpc + DefaultFrequency),
            Uncompressed([5, 5, 5, 5], 1, 3, 30, DefaultSyncQpc - DefaultFrequency),
        ]);
        var stream = new NetTraceStream(processId: 99).Block("MetadataBlock", metadata).Block("EventBlock", events).End();

        var (reader, handler) = RecordingHandler.Read(stream);

        Assert.Equal([99], handler.ProcessIds);
        Assert.Equal(3, reader.EventsRead);
        Assert.Equal(0, reader.EventsLost);
        Assert.Collection(
            handler.Events,
            e => Assert.Equal((TraceProvider.Runtime, 80, 0, DefaultSync.AddMilliseconds(500), "090807"), e.Value),
            e => Assert.Equal((TraceProvider.Coverage, 3, 1, DefaultSync.AddSeconds(1), "06"), e.Value),
            e => Assert.Equal((TraceProvider.Runtime, 80, 0, DefaultSync.AddSeconds(-1), "05050505"), e.Value));
    }

    [Fact]
    public void A_gap_in_a_V4_threads_sequence_numbers_counts_the_events_in_it_as_lost()
    {
        var events = EventBlock(compressed: false,
        [
            Uncompressed([1], 1, 1, 30, DefaultSyncQpc),
            Uncompressed([2], 1, 5, 30, DefaultSyncQpc),
        ]);
        var stream = ThreeProviders().Block("EventBlock", events).End();

        Assert.Equal(3, RecordingHandler.Read(stream).Reader.EventsLost);
    }

    [Fact]
    public void A_block_header_larger_than_its_20_bytes_is_skipped_whole()
    {
        var stream = new NetTraceStream()
            .Block("MetadataBlock", EventBlock(compressed: true, [MetadataBlob(1, Runtime, 1, 0)], headerSize: 28))
            .Block("EventBlock", EventBlock(compressed: true, [Compressed([42], DefaultSyncQpc, metadataId: 1)], headerSize: 24))
            .End();

        var (_, handler) = RecordingHandler.Read(stream);

        Assert.Equal(new byte[] { 42 }, Assert.Single(handler.Events).Payload);
    }

    [Fact]
    public void Events_of_other_providers_or_unknown_metadata_are_counted_not_handed_over()
    {
        var stream = ThreeProviders().Events(
            Compressed([1], 0, metadataId: 4),
            Compressed([2], 0, metadataId: 99),
            Compressed([3], 0, metadataId: 1)).End();

        var (reader, handler) = RecordingHandler.Read(stream);

        Assert.Equal(3, reader.EventsRead);
        Assert.Equal(new byte[] { 3 }, Assert.Single(handler.Events).Payload);
    }

    [Fact]
    public void A_later_metadata_record_with_the_same_id_replaces_the_earlier()
    {
        var stream = ThreeProviders()
            .Metadata(MetadataBlob(1, Coverage, 2, 3))
            .Events(Compressed([1], 0, metadataId: 1)).End();

        var (_, handler) = RecordingHandler.Read(stream);

        var only = Assert.Single(handler.Events);
        Assert.Equal((TraceProvider.Coverage, 2, 3), (only.Provider, only.EventId, only.Version));
    }

    [Fact]
    public void Multi_byte_varints_decode_little_endian_base_128()
    {
        // Metadata id 300 (two varint bytes), thread 2^40 + 1, a 200-byte payload (two bytes of size).
        var payload = Enumerable.Range(0, 200).Select(i => (byte)i).ToArray();
        var stream = new NetTraceStream()
            .Metadata(MetadataBlob(300, Runtime, 5, 0))
            .Events(
                Compressed(payload, DefaultSyncQpc + 3_000_000_000, metadataId: 300, captureThread: (0, (1UL << 40) + 1, 1)),
                Compressed(payload, 0, captureThread: (3, (1UL << 40) + 1, 1)))
            .End();

        var (reader, handler) = RecordingHandler.Read(stream);

        Assert.Equal(2, handler.Events.Count);
        Assert.All(handler.Events, e => Assert.Equal(payload, e.Payload));
        Assert.Equal(DefaultSync.AddSeconds(3), handler.Events[0].TimestampUtc);
        // Sequence 1, then 1 + 3 + 1 = 5: events 2 to 4 of that thread were dropped.
        Assert.Equal(3, reader.EventsLost);
    }

    [Fact]
    public void A_varint_of_more_than_ten_bytes_is_refused()
    {
        var stream = ThreeProviders().Events([0x01, .. Enumerable.Repeat((byte)0x80, 10), 0x01]).End();

        Assert.Throws<InvalidDataException>(() => RecordingHandler.Read(stream));
    }

    [Fact]
    public void A_ten_byte_varint_is_read()
    {
        // Metadata id 1 spelled in ten bytes (nine continuation bytes of zeroes).
        byte[] blob = [0x81, 0x81, .. Enumerable.Repeat((byte)0x80, 8), 0x00, 0x00, 0x01, 0x07];
        var stream = ThreeProviders().Events(blob).End();

        var (_, handler) = RecordingHandler.Read(stream);

        var only = Assert.Single(handler.Events);
        Assert.Equal((TraceProvider.Runtime, "07"), (only.Provider, Convert.ToHexString(only.Payload)));
    }

    [Fact]
    public void Gaps_in_each_threads_sequence_numbers_are_lost_events()
    {
        var stream = ThreeProviders().Events(
            Compressed([1], 0, metadataId: 1, captureThread: (0, 10, 0)), // thread 10: 1
            // The delta is from the previous event's number, whichever thread it was on.
            Compressed([1], 0, captureThread: (0, 20, 1)), // thread 20: 2 (the first seen of it: no gap known)
            Compressed([1], 0, captureThread: (0, 20, 1)), // thread 20: 3
            Compressed([1], 0, captureThread: (4, 10, 0)), // thread 10: 8, 6 lost
            Compressed([1], 0, captureThread: (unchecked((uint)-4), 20, 1))) // thread 20: 8 - 4 + 1 = 5, 1 lost
            .End();

        var (reader, _) = RecordingHandler.Read(stream);

        Assert.Equal(5, reader.EventsRead);
        Assert.Equal(7, reader.EventsLost);
    }

    [Fact]
    public void A_thread_whose_numbers_go_back_is_a_new_thread_with_the_same_id_not_a_loss()
    {
        var stream = ThreeProviders().Events(
            Compressed([1], 0, metadataId: 1, captureThread: (9, 10, 0)), // 10
            Compressed([1], 0, captureThread: (unchecked((uint)-10), 10, 0)), // back to 1
            Compressed([1], 0, captureThread: (0, 10, 0))) // 2
            .End();

        Assert.Equal(0, RecordingHandler.Read(stream).Reader.EventsLost);
    }

    [Fact]
    public void A_sequence_point_past_a_threads_last_event_counts_the_difference_as_lost_once()
    {
        var stream = ThreeProviders()
            .Events(
                Compressed([1], 0, metadataId: 1, captureThread: (2, 10, 0)), // thread 10: 3
                Compressed([1], 0, captureThread: (0, 20, 0))) // thread 20: 4
            // Thread 10 tried to log up to 7 (4 lost); thread 20 is where it was; thread 30 was never seen.
            .Block("SPBlock", SequencePoints(123, (10, 7), (20, 4), (30, 50)))
            // Thread 10 goes on at 8: no new gap, and the 4 are not counted again.
            .Events(Compressed([1], 0, metadataId: 1, captureThread: (7, 10, 0)))
            .Block("SPBlock", SequencePoints(456, (10, 8), (20, 4)))
            .End();

        var (reader, handler) = RecordingHandler.Read(stream);

        Assert.Equal(3, handler.Events.Count);
        Assert.Equal(4, reader.EventsLost);
    }

    [Fact]
    public void A_sequence_point_behind_a_threads_last_event_loses_nothing()
    {
        var stream = ThreeProviders()
            .Events(Compressed([1], 0, metadataId: 1, captureThread: (5, 10, 0))) // thread 10: 6
            .Block("SPBlock", SequencePoints(1, (10, 4)))
            .Events(Compressed([1], 0, metadataId: 1, captureThread: (6, 10, 0))) // thread 10: 7
            .End();

        Assert.Equal(0, RecordingHandler.Read(stream).Reader.EventsLost);
    }

    [Fact]
    public void A_sequence_point_that_claims_more_threads_than_it_holds_reads_the_ones_it_holds()
    {
        var stream = ThreeProviders()
            .Events(Compressed([1], 0, metadataId: 1, captureThread: (0, 10, 0)))
            .Block("SPBlock", SequencePoints(1, 1000, (10, 3)))
            .Events(Compressed([1], 0, metadataId: 1, captureThread: (3, 10, 0))) // 4: follows the point's 3
            .End();

        var (reader, handler) = RecordingHandler.Read(stream);

        Assert.Equal(2, handler.Events.Count);
        Assert.Equal(2, reader.EventsLost);
    }

    [Fact]
    public void A_sequence_point_that_claims_fewer_threads_reads_only_those()
    {
        var stream = ThreeProviders()
            .Events(Compressed([1], 0, metadataId: 1, captureThread: (0, 10, 0)), Compressed([1], 0, captureThread: (0, 20, 0)))
            .Block("SPBlock", SequencePoints(1, 1, (10, 3), (20, 9)))
            .End();

        Assert.Equal(2, RecordingHandler.Read(stream).Reader.EventsLost);
    }

    [Fact]
    public void Stack_blocks_are_skipped()
    {
        var stacks = new byte[] { 1, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 };
        var stream = ThreeProviders()
            .Block("StackBlock", stacks)
            .Events(Compressed([1], 0, metadataId: 1))
            .End();

        Assert.Single(RecordingHandler.Read(stream).Handler.Events);
    }

    [Fact]
    public void Blocks_larger_than_the_readers_first_buffer_are_read_whole()
    {
        // 300 KB of events: the 128 KB block buffer grows twice; the cursor's 64 KB buffer is bypassed.
        var payload = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
        var blobs = Enumerable.Range(0, 300).Select(i => Compressed(payload, 1, metadataId: 3, captureThread: (0, 1, 0))).ToArray();
        var stream = ThreeProviders().Events(blobs).Events(Compressed([1], 0, metadataId: 1)).End();

        var (reader, handler) = RecordingHandler.Read(stream);

        Assert.Equal(301, reader.EventsRead);
        Assert.All(handler.Events.Take(300), e => Assert.Equal(payload, e.Payload));
        Assert.Equal(new byte[] { 1 }, handler.Events[300].Payload);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4096)]
    public void A_stream_that_arrives_in_pieces_reads_as_the_whole(int piece)
    {
        var payload = Enumerable.Range(0, 70_000).Select(i => (byte)i).ToArray();
        var bytes = ThreeProviders()
            .Events(Compressed([1, 2], 10, metadataId: 1), Compressed(payload, 10, metadataId: 2))
            .Block("StackBlock", new byte[301])
            .Events(Compressed([3], 10, metadataId: 3))
            .End();

        var whole = RecordingHandler.Read(bytes);
        var pieces = RecordingHandler.Read(new Trickle(bytes, piece));

        Assert.Equal(3, whole.Handler.Events.Count);
        Assert.Equal(whole.Handler.Events.Select(e => (e.Provider, e.TimestampUtc, Convert.ToHexString(e.Payload))), pieces.Handler.Events.Select(e => (e.Provider, e.TimestampUtc, Convert.ToHexString(e.Payload))));
        Assert.Equal(payload, whole.Handler.Events[1].Payload);
    }

    [Fact]
    public void A_frequency_of_zero_stamps_every_event_with_the_sync_time()
    {
        var stream = new NetTraceStream(frequency: 0).Metadata(MetadataBlob(1, Runtime, 1, 0))
            .Events(Compressed([1], 123_456_789, metadataId: 1)).End();

        Assert.Equal(DefaultSync, Assert.Single(RecordingHandler.Read(stream).Handler.Events).TimestampUtc);
    }

    [Theory]
    [InlineData(long.MaxValue / 2)]
    [InlineData(-(long.MaxValue / 2))]
    public void A_timestamp_outside_any_date_is_refused(long qpcOffset)
    {
        // 1 Hz: an offset of 2^62 seconds is past year 9999 and before year 1.
        var stream = new NetTraceStream(frequency: 1, syncQpc: 0).Metadata(MetadataBlob(1, Runtime, 1, 0))
            .Events(Compressed([1], qpcOffset, metadataId: 1)).End();

        var refused = Assert.Throws<InvalidDataException>(() => RecordingHandler.Read(stream));
        Assert.Null(refused.InnerException);
    }

    [Theory]
    [InlineData(true, 9999, true)]
    [InlineData(true, 10_000, false)]
    [InlineData(false, 0, true)]
    [InlineData(false, -1, false)]
    public void Timestamps_are_dates_up_to_the_last_tick_of_year_9999_and_down_to_the_first_of_year_1(bool syncAtTheEnd, long ticks, bool isDate)
    {
        // 10 MHz: QPC ticks are DateTime ticks. The sync times are the last and the first
        // millisecond a SYSTEMTIME can name: 9,999 ticks before DateTime.MaxValue, and DateTime.MinValue.
        var sync = syncAtTheEnd ? new DateTime(9999, 12, 31, 23, 59, 59, 999, DateTimeKind.Utc) : DateTime.MinValue;
        var stream = new NetTraceStream(sync: sync, syncQpc: 0, frequency: TimeSpan.TicksPerSecond)
            .Metadata(MetadataBlob(1, Runtime, 1, 0))
            .Events(Compressed([1], ticks, metadataId: 1))
            .End();

        if (isDate)
        {
            Assert.Equal(sync.AddTicks(ticks), Assert.Single(RecordingHandler.Read(stream).Handler.Events).TimestampUtc);
        }
        else
        {
            Assert.Null(Assert.Throws<InvalidDataException>(() => RecordingHandler.Read(stream)).InnerException);
        }
    }

    [Theory]
    [InlineData(1, 1, 1, 0, 0, 0, 0)]
    [InlineData(9999, 12, 31, 23, 59, 59, 999)]
    [InlineData(2024, 2, 29, 12, 30, 30, 500)]
    public void Valid_sync_times_are_read_to_the_millisecond(int year, int month, int day, int hour, int minute, int second, int millisecond)
    {
        var stream = new NetTraceStream().Raw().End();
        var time = SystemTime(year, month, 0, day, hour, minute, second, millisecond);
        var bytes = WithSyncTime(stream, time);

        var (reader, _) = RecordingHandler.Read(bytes);

        Assert.Equal(new DateTime(year, month, day, hour, minute, second, millisecond, DateTimeKind.Utc), reader.SessionStartUtc);
        Assert.Equal(DateTimeKind.Utc, reader.SessionStartUtc.Kind);
    }

    [Theory]
    [InlineData(0, 1, 1, 0, 0, 0, 0)]
    [InlineData(10000, 1, 1, 0, 0, 0, 0)]
    [InlineData(2026, 0, 1, 0, 0, 0, 0)]
    [InlineData(2026, 13, 1, 0, 0, 0, 0)]
    [InlineData(2026, 1, 0, 0, 0, 0, 0)]
    [InlineData(2026, 4, 31, 0, 0, 0, 0)]
    [InlineData(2023, 2, 29, 0, 0, 0, 0)]
    [InlineData(2026, 1, 1, -1, 0, 0, 0)]
    [InlineData(2026, 1, 1, 24, 0, 0, 0)]
    [InlineData(2026, 1, 1, 0, -1, 0, 0)]
    [InlineData(2026, 1, 1, 0, 60, 0, 0)]
    [InlineData(2026, 1, 1, 0, 0, -1, 0)]
    [InlineData(2026, 1, 1, 0, 0, 60, 0)]
    [InlineData(2026, 1, 1, 0, 0, 0, -1)]
    [InlineData(2026, 1, 1, 0, 0, 0, 1000)]
    public void A_sync_time_that_is_not_a_date_is_refused(int year, int month, int day, int hour, int minute, int second, int millisecond)
    {
        var bytes = WithSyncTime(new NetTraceStream().End(), SystemTime(year, month, 0, day, hour, minute, second, millisecond));

        var refused = Assert.Throws<InvalidDataException>(() => RecordingHandler.Read(bytes));
        Assert.Null(refused.InnerException);
    }

    public static TheoryData<string, byte[]> NotNetTrace => new()
    {
        { "magic", new NetTraceStream(magic: "Nettracf").End() },
        { "serializer", new NetTraceStream(serializer: "!FastSerialization.2").End() },
        { "trace version", new NetTraceStream(traceVersion: 5).End() },
        { "trace version 3", new NetTraceStream(traceVersion: 3).End() },
        { "unknown object", new NetTraceStream().Block("Blob", [1, 2, 3, 4]).End() },
        { "object tag", new NetTraceStream().Raw(4).End() },
        { "type tag", new NetTraceStream().Raw(5, 4).End() },
        { "type of a type", new NetTraceStream().Raw(5, 5, 2).End() },
        { "end of a type", new NetTraceStream().Raw([5, 5, 1, 2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, .. "Trace"u8, 7]).End() },
        { "end of an object", ReplaceLast(ThreeProviders().End(), 6, 7) },
        { "string length 65", new NetTraceStream(serializer: new string('x', 65)).End() },
        { "string length -1", [.. "Nettrace"u8, 0xff, 0xff, 0xff, 0xff] },
        { "negative block size", new NetTraceStream().Block("EventBlock", [], claimedSize: -4).End() },
        { "block over 64 MiB", new NetTraceStream().Block("EventBlock", [], claimedSize: (64 * 1024 * 1024) + 1).End() },
        { "block header size 3", new NetTraceStream().Block("EventBlock", [3, 0, 1, 0, 0, 0, 0, 0]).End() },
        { "block header past the block", new NetTraceStream().Block("EventBlock", [9, 0, 1, 0, 0, 0, 0, 0]).End() },
        { "payload past the block", ThreeProviders().Events([.. Compressed([1, 2, 3], 0, metadataId: 1)[..^1]]).End() },
        { "payload size negative", ThreeProviders().Events([0x81, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f]).End() },
        { "metadata cut after the provider", new NetTraceStream().Metadata(Compressed(MetadataRecord(1, Runtime, 1, 0)[..^20], 0)).End() },
        { "metadata cut in the version", new NetTraceStream().Metadata(Compressed(MetadataRecord(1, Runtime, 1, 0)[..^9], 0)).End() },
        { "sequence point of 11 bytes", new NetTraceStream().Block("SPBlock", new byte[11]).End() },
        // A provider name that runs to the record's end without its NUL: nothing is left for the event id.
        { "provider name without its terminator", new NetTraceStream().Metadata(Compressed([1, 0, 0, 0, .. System.Text.Encoding.Unicode.GetBytes(Runtime)], 0)).End() },
        { "event name without its terminator", new NetTraceStream().Metadata(Compressed([.. MetadataRecord(1, Runtime, 1, 0)[..72], .. System.Text.Encoding.Unicode.GetBytes("Name")], 0)).End() },
    };

    [Theory]
    [MemberData(nameof(NotNetTrace))]
    public void What_is_not_a_NetTrace_V4_or_V5_stream_is_refused_as_invalid_data(string what, byte[] stream)
    {
        var refused = Assert.Throws<InvalidDataException>(() => RecordingHandler.Read(stream));

        Assert.True(refused.InnerException is null, $"{what}: {refused.InnerException}");
    }

    [Fact]
    public void A_metadata_record_of_exactly_its_fixed_fields_is_read()
    {
        // The reader needs the record up to the version; here it ends there (no level, no fields).
        var record = MetadataRecord(1, Runtime, 7, 2)[..^8];
        var stream = new NetTraceStream().Metadata(Compressed(record, 0)).Events(Compressed([1], 0, metadataId: 1)).End();

        var only = Assert.Single(RecordingHandler.Read(stream).Handler.Events);
        Assert.Equal((7, 2), (only.EventId, only.Version));
    }

    [Fact]
    public void A_sequence_point_of_exactly_its_head_is_read()
    {
        var stream = new NetTraceStream().Block("SPBlock", SequencePoints(1)).End();

        Assert.Equal(0, RecordingHandler.Read(stream).Reader.EventsLost);
    }

    [Fact]
    public void An_event_block_of_exactly_its_header_holds_no_events()
    {
        var stream = new NetTraceStream().Block("EventBlock", [4, 0, 1, 0]).End();

        Assert.Equal(0, RecordingHandler.Read(stream).Reader.EventsRead);
    }

    [Fact]
    public void A_stream_cut_anywhere_ends_in_end_of_stream()
    {
        var bytes = ThreeProviders().Events(Compressed([1, 2, 3], 0, metadataId: 1)).End();

        foreach (var length in new[] { 0, 4, 8, 30, bytes.Length / 2, bytes.Length - 1 })
        {
            Assert.Throws<EndOfStreamException>(() => RecordingHandler.Read(bytes[..length]));
        }
    }

    /// <summary>The stream with its Trace object's SYSTEMTIME replaced (it follows the magic, the serializer and the type header).</summary>
    private static byte[] WithSyncTime(byte[] stream, byte[] systemTime)
    {
        var offset = 8 + 4 + 20 + 1 + 2 + 4 + 4 + 4 + 5 + 1;
        var copy = stream.ToArray();
        systemTime.CopyTo(copy, offset);
        return copy;
    }

    private static byte[] ReplaceLast(byte[] stream, byte before, byte after)
    {
        // The last object's end tag is the byte before the stream's final NullReference tag.
        Assert.Equal(before, stream[^2]);
        var copy = stream.ToArray();
        copy[^2] = after;
        return copy;
    }

    /// <summary>A stream that hands out at most <c>piece</c> bytes per read, as a socket may.</summary>
    private sealed class Trickle(byte[] bytes, int piece) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, piece));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, piece)]);
    }
}
