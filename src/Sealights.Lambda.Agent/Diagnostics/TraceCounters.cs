namespace Sealights.Lambda.Agent.Diagnostics;

/// <summary>What collection has cost so far, across runtimes and sessions (thread-safe).</summary>
internal sealed class TraceCounters
{
    private long _bytes;
    private long _events;
    private long _eventsLost;
    private int _runtimes;
    private int _sessions;
    private int _rotations;
    private long _lastRotationStopTicks = -1;
    private int _probeFlushes;
    private long _probeHitsDropped;
    private int _harvestDatagrams;

    public void AddBytes(long count) => Interlocked.Add(ref _bytes, count);

    public void AddEvents(long count) => Interlocked.Add(ref _events, count);

    public void AddEventsLost(long count) => Interlocked.Add(ref _eventsLost, count);

    public void RuntimeConnected() => Interlocked.Increment(ref _runtimes);

    public void SessionStarted() => Interlocked.Increment(ref _sessions);

    public void Rotated(TimeSpan stopTook)
    {
        Interlocked.Increment(ref _rotations);
        Interlocked.Exchange(ref _lastRotationStopTicks, stopTook.Ticks);
    }

    public void ProbeFlushed() => Interlocked.Increment(ref _probeFlushes);

    /// <summary>Probe hits that could not be mapped to a method of the task root's files (or a chunk was missing).</summary>
    public void ProbeHitsDropped(long count) => Interlocked.Add(ref _probeHitsDropped, count);

    /// <summary>An invocation's harvest read from the harvest socket (not from the standing session's events).</summary>
    public void HarvestDatagramRead() => Interlocked.Increment(ref _harvestDatagrams);

    public CollectionStatistics Snapshot()
    {
        var ticks = Interlocked.Read(ref _lastRotationStopTicks);
        return new CollectionStatistics(
            Volatile.Read(ref _runtimes),
            Volatile.Read(ref _sessions),
            Volatile.Read(ref _rotations),
            Interlocked.Read(ref _events),
            Interlocked.Read(ref _bytes),
            Interlocked.Read(ref _eventsLost),
            ticks < 0 ? null : TimeSpan.FromTicks(ticks),
            Volatile.Read(ref _probeFlushes),
            Interlocked.Read(ref _probeHitsDropped),
            Volatile.Read(ref _harvestDatagrams));
    }
}

/// <summary>A snapshot of what collection has cost (for the log and the benchmarks).</summary>
/// <param name="RuntimesConnected">Runtime processes that connected and got a session.</param>
/// <param name="SessionsStarted">EventPipe sessions started (one per runtime, plus one per rotation).</param>
/// <param name="Rotations">Completed rotations.</param>
/// <param name="EventsRead">Events parsed from all sessions.</param>
/// <param name="BytesRead">Bytes read from all sessions' streams.</param>
/// <param name="EventsLost">Events the runtime dropped because the session's buffers were full.</param>
/// <param name="LastRotationStop">How long the last rotation waited for the old session's stop and drain.</param>
/// <param name="ProbeFlushes">Probe flushes the library answered completely.</param>
/// <param name="ProbeHitsDropped">Probe hits dropped: a module not matching the task root's file by name and MVID, or chunks that never came.</param>
/// <param name="HarvestDatagrams">Harvest datagrams read (each an invocation's, or the exit's, harvest).</param>
public sealed record CollectionStatistics(
    int RuntimesConnected,
    int SessionsStarted,
    int Rotations,
    long EventsRead,
    long BytesRead,
    long EventsLost,
    TimeSpan? LastRotationStop,
    int ProbeFlushes = 0,
    long ProbeHitsDropped = 0,
    int HarvestDatagrams = 0);
