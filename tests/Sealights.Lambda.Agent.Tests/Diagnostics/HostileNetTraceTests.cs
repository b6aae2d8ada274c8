using System.Text;
using Sealights.Lambda.Agent.Diagnostics.NetTrace;

namespace Sealights.Lambda.Agent.Tests.Diagnostics;

/// <summary>
/// What the NetTrace reader does with a corrupt or hostile session stream (issue 22, F5 and F6):
/// it refuses with its documented exceptions, raised by its own checks (no wrapped
/// IndexOutOfRange/ArgumentOutOfRange/Overflow), and allocates from what arrived, never from
/// what a block claims. Each stream is a real recording's header (a .NET 10 runtime's, from
/// Fuzzing/corpus/nettrace) followed by the hex of one broken object.
/// </summary>
public sealed class HostileNetTraceTests
{
    // "Nettrace", then the serializer's name "!FastSerialization.1".
    private const string Magic = "4e65747472616365" + "14000000" + "214661737453657269616c697a6174696f6e2e31";

    // The Trace object: type header, then SYSTEMTIME (2026-12-07 04:37:06.319, day of week 1), sync QPC,
    // QPC frequency (1 GHz), pointer size, process id, processors, sampling rate, end of object.
    private const string TraceType = "050501" + "04000000" + "04000000" + "05000000" + "5472616365" + "06";
    private const string SyncTime = "ea07" + "0c00" + "0100" + "0700" + "0400" + "2500" + "0600" + "3f01";
    private const string TraceFields = "076c450444250000" + "00ca9a3b00000000" + "08000000" + "57280000" + "02000000" + "40420f00" + "06";

    // An event block's header: 20 bytes, flags 1 (compressed headers), the rest zero.
    private const string CompressedBlockHeader = "1400" + "0100" + "00000000000000000000000000000000";

    public static TheoryData<string, byte[]> CorruptStreams => new()
    {
        // F5: a SYSTEMTIME with month 0 (the DateTime constructor threw ArgumentOutOfRangeException).
        { "sync time with month 0", Stream(SyncTime[..4] + "0000" + SyncTime[8..]) },
        // F5: a 1-byte event block (its 4-byte header was read past the end).
        { "1-byte event block", Stream(SyncTime, Block("EventBlock", "00")) },
        // F5: a sequence-point block shorter than its 12-byte head.
        { "short SP block", Stream(SyncTime, Block("SPBlock", "00000000")) },
        // F5: a compressed header whose timestamp varint runs past the block's end.
        { "varint past the block end", Stream(SyncTime, Block("EventBlock", CompressedBlockHeader + "00" + "ff")) },
        // F5: flags 0 (uncompressed headers), then 10 of a header's 80 bytes.
        { "short uncompressed header", Stream(SyncTime, Block("EventBlock", "1400" + "0000" + "00000000000000000000000000000000" + "00000000000000000000")) },
        // F5: a metadata record of 2 bytes (its 4-byte id was read past the end).
        { "short metadata", Stream(SyncTime, Block("MetadataBlock", CompressedBlockHeader + "80" + "00" + "02" + "0000")) },
        // F5: an event of the runtime's provider at QPC 2^63-1 with a 1 Hz clock (AddTicks threw).
        {
            "timestamp past any date",
            Stream(SyncTime, TraceFields.Replace("00ca9a3b00000000", "0100000000000000"), Block("MetadataBlock", CompressedBlockHeader + "80" + "00" + RuntimeMetadata()),
                Block("EventBlock", CompressedBlockHeader + "01" + "01" + "ffffffffffffffff7f"))
        },
        // F5: an activity id (16 bytes) announced two bytes before the block ends.
        { "activity id past the block end", Stream(SyncTime, Block("EventBlock", CompressedBlockHeader + "10" + "00")) },
    };

    [Theory]
    [MemberData(nameof(CorruptStreams))]
    public void A_corrupt_stream_is_refused_by_the_readers_own_checks(string stream, byte[] bytes)
    {
        var refused = Assert.Throws<InvalidDataException>(() => new NetTraceReader(new MemoryStream(bytes)).Read(new Ignore()));

        // Null: raised by a check of the reader's, not a runtime exception caught and wrapped.
        Assert.True(refused.InnerException is null, $"{stream}: {refused.InnerException}");
    }

    [Fact]
    public void A_block_that_claims_64_MiB_and_ends_costs_what_arrived()
    {
        // F6: ~150 bytes whose event block claims 64 MiB allocated the 64 MiB before reading a byte of it.
        var bytes = Stream(SyncTime, Block("EventBlock", CompressedBlockHeader + "00000000", claimedSize: 64 * 1024 * 1024));
        var allocated = GC.GetAllocatedBytesForCurrentThread();

        var refused = Assert.Throws<EndOfStreamException>(() => new NetTraceReader(new MemoryStream(bytes)).Read(new Ignore()));

        var cost = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.True(cost < 1024 * 1024, $"{cost} bytes allocated for a {bytes.Length}-byte stream ({refused.Message})");
    }

    [Fact]
    public void The_recorded_stream_the_corrupt_ones_start_from_reads_whole()
    {
        // The regression inputs above only test something if their prefix is what a runtime writes.
        var recording = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fuzzing", "corpus", "nettrace", "loader-verbose.nettrace"));
        var prefix = Convert.FromHexString(Magic + TraceType + SyncTime + TraceFields);
        Assert.Equal(prefix, recording[..prefix.Length]);
        var handler = new Ignore();

        var reader = new NetTraceReader(new MemoryStream(recording));
        reader.Read(handler);

        Assert.True(reader.EventsRead > 0 && handler.Events > 0, $"{reader.EventsRead} events read, {handler.Events} of the runtime's");
        Assert.Equal(new DateTime(2026, 12, 7, 4, 37, 6, 319, DateTimeKind.Utc), reader.SessionStartUtc);
    }

    /// <summary>The stream's header, a Trace object with <paramref name="syncTime"/>, the given objects, and the end tag.</summary>
    private static byte[] Stream(string syncTime, params byte[][] objects) => Stream(syncTime, TraceFields, objects);

    private static byte[] Stream(string syncTime, string traceFields, params byte[][] objects)
    {
        var bytes = new List<byte>(Convert.FromHexString(Magic + TraceType + syncTime + traceFields));
        foreach (var item in objects)
        {
            // A block's content starts at a 4-byte stream offset: the padding depends on where it lands.
            var typeLength = BitConverter.ToInt32(item, 0);
            var head = item.AsSpan(4, typeLength + 4).ToArray();
            bytes.AddRange(head);
            while (bytes.Count % 4 != 0)
            {
                bytes.Add(0);
            }
            bytes.AddRange(item.AsSpan(4 + typeLength + 4).ToArray());
        }
        bytes.Add(1);
        return [.. bytes];
    }

    /// <summary>A block object (type header, size, content, end tag), prefixed for <see cref="Stream"/> by the length of its type header.</summary>
    private static byte[] Block(string name, string contentHex, int? claimedSize = null)
    {
        var content = Convert.FromHexString(contentHex);
        var type = Convert.FromHexString("050501" + "02000000" + "02000000" + Hex(name.Length) + Convert.ToHexString(Encoding.ASCII.GetBytes(name)) + "06");
        return [.. BitConverter.GetBytes(type.Length), .. type, .. BitConverter.GetBytes(claimedSize ?? content.Length), .. content, 6];
    }

    /// <summary>Varint payload size, then a metadata record: id 1 of Microsoft-Windows-DotNETRuntime, event 1, version 0.</summary>
    private static string RuntimeMetadata()
    {
        var record = "01000000" + Convert.ToHexString(Encoding.Unicode.GetBytes(NetTraceReader.RuntimeProviderName)) + "0000"
            + "01000000" + "0000" + "0000000000000000" + "00000000" + "04000000";
        return Convert.ToHexString([(byte)(record.Length / 2)]) + record;
    }

    private static string Hex(int value) => Convert.ToHexString(BitConverter.GetBytes(value));

    private sealed class Ignore : INetTraceEventHandler
    {
        public int Events { get; private set; }

        public void OnTraceStarted(int processId)
        {
        }

        public void OnEvent(in NetTraceEvent traceEvent) => Events++;
    }
}
