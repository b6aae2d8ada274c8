using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Sealights.Lambda.Agent.Diagnostics;
using Sealights.Lambda.Agent.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Tests.Diagnostics;

/// <summary>
/// The agent's NetTrace reader against TraceEvent, the format's reference reader, on streams
/// recorded from a real runtime with the agent's own session configurations: the fixture's
/// cold start (runtime suspended until the session runs, so it sees everything), the session
/// that follows a rotation, and a rundown session. Both readers must hand on the same events of
/// the agent's providers: provider, id, version, timestamp and payload bytes. A cut stream must
/// yield the same events up to the cut, and a stream the runtime dropped events from the same
/// count of lost events.
/// </summary>
[Collection(RecordedStreams.Name)]
public sealed class NetTraceOracleTests(RecordedStreams streams, ITestOutputHelper output)
{
    // Events the agent acts on (RuntimeEventReader): the test fails if a stream has none of them.
    private static readonly HashSet<(string, int)> UsedEvents =
    [
        (RuntimeEventProviders.RuntimeProvider, 72), (RuntimeEventProviders.RuntimeProvider, 141), (RuntimeEventProviders.RuntimeProvider, 143),
        (RuntimeEventProviders.RuntimeProvider, 145), (RuntimeEventProviders.RuntimeProvider, 152), (RuntimeEventProviders.RuntimeProvider, 159),
        ("Microsoft-Windows-DotNETRuntimeRundown", 142), ("Microsoft-Windows-DotNETRuntimeRundown", 144), ("Microsoft-Windows-DotNETRuntimeRundown", 154),
    ];

    [Theory]
    [InlineData(".NET 10")]
    [InlineData(".NET 8")]
    public async Task ColdStart_BothReadersSeeTheSameEvents(string runtime)
    {
        var recorded = await streams.GetAsync(runtime);
        var compared = AssertSameEvents($"cold start ({runtime}, JIT + ReadyToRun keywords)", recorded.ColdStart);
        // The whole "all" scenario ran traced: its jitted methods are in, and so are the framework's ReadyToRun entry points.
        Assert.Contains(compared, e => e.EventId == 145);
        Assert.Contains(compared, e => e.EventId == 152);
        Assert.Contains(compared, e => e.EventId == 159);
        Assert.Contains(compared, e => e.EventId == 72);
    }

    [Theory]
    [InlineData(".NET 10")]
    [InlineData(".NET 8")]
    public async Task Rotation_BothReadersSeeTheSameEvents(string runtime)
    {
        var recorded = await streams.GetAsync(runtime);
        AssertSameEvents($"after a rotation ({runtime})", recorded.Rotated);
    }

    [Theory]
    [InlineData(".NET 10")]
    [InlineData(".NET 8")]
    public async Task Rundown_BothReadersSeeTheSameEvents(string runtime)
    {
        var recorded = await streams.GetAsync(runtime);
        var compared = AssertSameEvents($"rundown ({runtime})", recorded.Rundown);
        Assert.Contains(compared, e => e.Provider == "Microsoft-Windows-DotNETRuntimeRundown" && e.EventId == 144);
        Assert.Contains(compared, e => e.Provider == "Microsoft-Windows-DotNETRuntimeRundown" && e.EventId == 154);
    }

    [Fact]
    public async Task LostEvents_BothReadersCountTheSameLoss()
    {
        var withLostEvents = await streams.WithLostEventsAsync();
        var agent = TraceReaders.Agent(withLostEvents);
        var oracle = TraceReaders.TraceEvent(withLostEvents);
        Print($"lost events: agent {agent.EventsLost} lost of {agent.EventsRead + agent.EventsLost}; TraceEvent {oracle.EventsLost} lost");

        Assert.Null(agent.Error);
        Assert.True(agent.EventsLost > 0, "the runtime dropped nothing: this stream does not test loss");
        Assert.Equal(oracle.EventsLost, agent.EventsLost);
        Assert.Equal(oracle.EventsRead, agent.EventsRead);
        AssertSameEvents("with lost events (.NET 10)", withLostEvents);
    }

    /// <summary>
    /// A stream cut mid-block (the process killed). The agent hands on each block's events as the
    /// block arrives; TraceEvent holds events back to sort them between sequence points and drops
    /// what it holds when the stream breaks. So: what TraceEvent read of the cut stream, the agent
    /// read too, and everything the agent read is an event of the whole stream as TraceEvent reads it.
    /// </summary>
    [Theory]
    [InlineData(0.25)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public async Task TruncatedStream_TheAgentKeepsWhatPrecedesTheCut(double keep)
    {
        var recorded = await streams.GetAsync(".NET 10");
        var cut = recorded.ColdStart[..(int)(recorded.ColdStart.Length * keep)];
        var agent = TraceReaders.Agent(cut);
        var oracleCut = TraceReaders.TraceEvent(cut);
        var oracleWhole = TraceReaders.TraceEvent(recorded.ColdStart);
        Print($"cold start cut at {cut.Length} of {recorded.ColdStart.Length} bytes: agent {agent.Events.Count} events compared ({agent.Error?.GetType().Name}), "
            + $"TraceEvent {oracleCut.Events.Count} before the cut ({oracleCut.Error?.GetType().Name ?? "no error"}), {oracleWhole.Events.Count} in the whole stream");

        Assert.IsType<EndOfStreamException>(agent.Error);
        Assert.InRange(agent.Events.Count, 1, oracleWhole.Events.Count - 1);
        AssertIncluded(oracleCut.Events, agent.Events);
        AssertIncluded(agent.Events, oracleWhole.Events);
    }

    /// <summary>Every event of <paramref name="part"/> is in <paramref name="whole"/>, as many times.</summary>
    private static void AssertIncluded(IEnumerable<TraceRecord> part, IEnumerable<TraceRecord> whole)
    {
        var available = whole.CountBy(e => e).ToDictionary();
        var missing = part.Where(e => available.TryGetValue(e, out var n) is false || (available[e] = n - 1) < 0).ToList();
        Assert.Empty(missing);
    }

    private List<TraceRecord> AssertSameEvents(string stream, byte[] bytes)
    {
        var agent = TraceReaders.Agent(bytes);
        var oracle = TraceReaders.TraceEvent(bytes);
        var used = agent.Events.Count(e => UsedEvents.Contains((e.Provider, e.EventId)));
        Print($"{stream}: {bytes.Length} bytes, {agent.Events.Count} events of the agent's providers compared ({used} of the kinds it acts on); "
            + $"agent read {agent.EventsRead} events in all, TraceEvent {oracle.EventsRead}");

        Assert.Null(agent.Error);
        Assert.Null(oracle.Error);
        Assert.Equal(oracle.EventsRead, agent.EventsRead);
        Assert.True(used > 0, "no event the agent acts on: the recording is not what the test says");
        Assert.Equal(Canonical(oracle.Events), Canonical(agent.Events));
        return agent.Events.ToList();
    }

    /// <summary>
    /// TraceEvent sorts events by time across threads between sequence points; the agent's
    /// reader hands them on in stream order (the order does not matter to it). Same events means
    /// the same multiset, so both are put in one order.
    /// </summary>
    private static List<TraceRecord> Canonical(IEnumerable<TraceRecord> events) =>
        [.. events.OrderBy(e => e.TimestampUtc).ThenBy(e => e.Provider, StringComparer.Ordinal).ThenBy(e => e.EventId).ThenBy(e => e.Payload, StringComparer.Ordinal)];

    private void Print(string line)
    {
        Console.WriteLine(line);
        output.WriteLine(line);
    }
}

/// <summary>The streams the oracle tests read, recorded once per test run from real runtimes.</summary>
public sealed class RecordedStreams
{
    public const string Name = "Recorded NetTrace streams";

    private readonly Lazy<Task<Recordings>> _net10 = new(() => RecordFixtureAsync(FixtureBuilds.JitAssembly));
    private readonly Lazy<Task<Recordings>> _net8 = new(async () => await RecordFixtureAsync(await FixtureBuilds.Net8ExecutableAsync()));
    private readonly Lazy<Task<byte[]>> _withLostEvents = new(RecordWithLostEventsAsync);

    internal Task<Recordings> GetAsync(string runtime) => runtime switch
    {
        ".NET 10" => _net10.Value,
        ".NET 8" => _net8.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(runtime), runtime, null),
    };

    internal Task<byte[]> WithLostEventsAsync() => _withLostEvents.Value;

    /// <summary>
    /// The fixture function under the agent's session configurations: suspended at start until the
    /// first session runs (its whole cold start is in that stream), rotated as the agent rotates
    /// (the next session starts before the current one stops), then a rundown session.
    /// </summary>
    private static async Task<Recordings> RecordFixtureAsync(string fixtureBuild)
    {
        var directory = Path.Combine(Path.GetTempPath(), "sl-agent-tests", Guid.NewGuid().ToString("N")[..12]);
        await using var listener = await DiagnosticPortListener.StartAsync(directory, CancellationToken.None);
        await using var fixture = FixtureProcess.Start(fixtureBuild, "all", listener.SocketPath + ",connect,suspend");
        using var accept = new CancellationTokenSource(FixtureProcess.Timeout);
        var connector = await listener.AcceptAsync(accept.Token) ?? throw new TimeoutException("the fixture's runtime did not connect");
        await using (connector)
        {
            var client = connector.Instance;
            var live = RuntimeEventProviders.Sessions(rundown: false, readyToRun: true);
            using var first = await RecordedSession.StartAsync(client, live);
            client.ResumeRuntime();
            await fixture.WaitForLineAsync("ready");

            using var second = await RecordedSession.StartAsync(client, live);
            var coldStart = await first.StopAsync();
            // After the rotation, methods never run before ("late"): their first executions are
            // what the next session must carry. ("all" again jitted nothing new, and the stream then
            // held only tier-up events when the timing gave any: 0 events in a fresh-clone run.)
            await fixture.RunAsync("late");
            var rotated = await second.StopAsync();

            using var rundownSession = await RecordedSession.StartAsync(client, RuntimeEventProviders.Sessions(rundown: true, readyToRun: true));
            var rundown = await rundownSession.StopAsync();
            await fixture.ExitAsync();
            return new Recordings(coldStart, rotated, rundown);
        }
    }

    /// <summary>
    /// A session left unread while far more events are written than its 1 MB of buffers hold:
    /// the runtime drops what does not fit, leaving gaps in the sequence numbers. Recorded from
    /// this test process's own runtime (a burst of its own EventSource), with the agent's runtime
    /// provider on too so its events are compared around the loss.
    /// </summary>
    private static async Task<byte[]> RecordWithLostEventsAsync()
    {
        var client = new DiagnosticsClient(Environment.ProcessId);
        var configuration = new EventPipeSessionConfiguration(
            [
                new EventPipeProvider(RuntimeEventProviders.RuntimeProvider, EventLevel.Verbose, RuntimeEventProviders.ReadyToRunKeywords),
                new EventPipeProvider(BurstSource.ProviderName, EventLevel.Informational),
            ],
            circularBufferSizeMB: 1,
            requestRundown: false,
            requestStackwalk: false);
        using var session = await RecordedSession.StartAsync(client, configuration, holdReading: true);
        for (var i = 0; i < 200_000; i++)
        {
            BurstSource.Log.Tick(i, "a payload long enough to fill buffers");
        }

        return await session.StopAsync();
    }

    internal sealed record Recordings(byte[] ColdStart, byte[] Rotated, byte[] Rundown);

    [EventSource(Name = ProviderName)]
    private sealed class BurstSource : EventSource
    {
        public const string ProviderName = "Sealights-Tests-Burst";

        public static readonly BurstSource Log = new();

        [Event(1, Level = EventLevel.Informational)]
        public void Tick(int index, string text) => WriteEvent(1, index, text);
    }
}

[CollectionDefinition(RecordedStreams.Name)]
public sealed class RecordedStreamsCollection : ICollectionFixture<RecordedStreams>;
