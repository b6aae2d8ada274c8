using System.Buffers.Binary;
using System.Net.Sockets;
using Sealights.Lambda.Agent.Diagnostics;
using Sealights.Lambda.Agent.Diagnostics.NetTrace;
using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Tests.Diagnostics;

/// <summary>
/// The agent's reading of the probes library's harvest datagrams (Probes README, "Harvest
/// datagrams"): a whole datagram is handed on as coverage events, and anything that does not fit
/// the layout is refused whole, with its reason, before any of it is handed on.
/// </summary>
public sealed class HarvestDatagramTests
{
    // "SLH1", then 2026-12-07T00:00:00Z in UTC ticks.
    private const string Header = "534C4831" + "00006B09F553DF08";

    [Fact]
    public void A_harvest_is_handed_on_as_its_events_with_the_time_it_was_taken()
    {
        var events = new Recorder();
        // ModuleHits (seq -1, chunk 0, "A", a zero MVID, 8 methods, indices 2 and 5), InvocationEnded (seq -1, "r", 1, 1, 2).
        var datagram = Convert.FromHexString(Header
            + "01000000" + "2C000000" + "FFFFFFFF" + "00000000" + "41000000" + new string('0', 32) + "08000000" + "08000000" + "02000000" + "05000000"
            + "04000000" + "14000000" + "FFFFFFFF" + "72000000" + "01000000" + "01000000" + "02000000");

        Assert.True(HarvestDatagramSocket.TryRead(datagram, events, out var problem), problem);

        Assert.Equal([1, 4], events.Ids);
        Assert.All(events.Times, t => Assert.Equal(new DateTime(2026, 12, 7, 0, 0, 0, DateTimeKind.Utc), t));
        Assert.True(CoveragePayloads.TryReadModuleHits(events.Payloads[0], out var header, out var indices));
        Assert.Equal(("A", 8, -1), (header.AssemblyName, header.MethodDefCount, header.Sequence));
        Assert.Equal([2, 5], [CoveragePayloads.IndexAt(indices, 0), CoveragePayloads.IndexAt(indices, 1)]);
        Assert.True(CoveragePayloads.TryReadInvocationEnded(events.Payloads[1], out var requestId, out var ended));
        Assert.Equal(("r", 2), (requestId, ended.Methods));
    }

    [Theory]
    // Shorter than the header; another magic; a time before year 1; one past DateTime.MaxValue.
    [InlineData("534C48", "without the harvest header")]
    [InlineData("534C4832" + "00006B09F553DF08", "without the harvest header")]
    [InlineData("534C4831" + "FFFFFFFFFFFFFFFF", "impossible time")]
    [InlineData("534C4831" + "004037F47528CA2B", "impossible time")]
    // A record header cut short; a negative length; a length past the end (the second record's).
    [InlineData(Header + "01000000" + "0000", "cut inside a record's header")]
    [InlineData(Header + "01000000" + "FFFFFFFF", "record of -1 bytes")]
    [InlineData(Header + "04000000" + "00000000" + "01000000" + "FFFFFF7F", "record of 2147483647 bytes where 0 are left")]
    public void A_datagram_that_does_not_fit_is_refused_whole_with_its_reason(string hex, string reason)
    {
        var events = new Recorder();

        Assert.False(HarvestDatagramSocket.TryRead(Convert.FromHexString(hex), events, out var problem));

        Assert.Contains(reason, problem, StringComparison.Ordinal);
        // The valid first record of the last case is not handed on either: all or nothing.
        Assert.Empty(events.Ids);
    }

    [Fact]
    public void An_empty_harvest_is_a_header_alone_and_hands_on_nothing()
    {
        var events = new Recorder();

        Assert.True(HarvestDatagramSocket.TryRead(Convert.FromHexString(Header), events, out _));

        Assert.Empty(events.Ids);
    }

    [Fact]
    public async Task The_socket_reads_each_datagram_into_the_standing_sessions_reader_and_says_what_it_skips()
    {
        var folder = Directory.CreateTempSubdirectory("sl-harvest-socket-");
        try
        {
            var harvested = new TaskCompletionSource<ProbeFlushReader>(TaskCreationOptions.RunContinuationsAsynchronously);
            var problems = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var harvests = new InvocationHarvests((reader, _) => harvested.TrySetResult(reader), problems.Enqueue);
            using var socket = HarvestDatagramSocket.Bind(Path.Combine(folder.FullName, "harvests.sock"), harvests, problems.Enqueue);
            Assert.NotNull(socket);
            using var runtime = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            runtime.Connect(new UnixDomainSocketEndPoint(socket.Path));

            // Garbage first: skipped with one line, the socket goes on.
            runtime.Send(Convert.FromHexString("DEADBEEF"));
            var ended = new byte[8 + 18];
            BinaryPrimitives.WriteInt32LittleEndian(ended, 4);
            BinaryPrimitives.WriteInt32LittleEndian(ended.AsSpan(4), 18);
            BinaryPrimitives.WriteInt32LittleEndian(ended.AsSpan(8), -1);
            runtime.Send([.. Convert.FromHexString(Header), .. ended]);

            var reader = await harvested.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal("", reader.RequestId);
            Assert.Empty(reader.Modules);
            Assert.Contains(problems, p => p.StartsWith("a harvest datagram was refused (a datagram of 4 bytes without the harvest header)", StringComparison.Ordinal));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private sealed class Recorder : INetTraceEventHandler
    {
        public List<int> Ids { get; } = [];

        public List<DateTime> Times { get; } = [];

        public List<byte[]> Payloads { get; } = [];

        public void OnTraceStarted(int processId)
        {
        }

        public void OnEvent(in NetTraceEvent traceEvent)
        {
            Assert.Equal(TraceProvider.Coverage, traceEvent.Provider);
            Ids.Add(traceEvent.EventId);
            Times.Add(traceEvent.TimestampUtc);
            Payloads.Add(traceEvent.Payload.ToArray());
        }
    }
}
