using System.Buffers.Binary;
using Sealights.Lambda.Agent.Diagnostics;
using Sealights.Lambda.Agent.Diagnostics.NetTrace;

namespace Sealights.Lambda.Agent.MethodHits;

/// <summary>
/// Reads the standing coverage session of a probed runtime: the library's answer to
/// <c>invocations=runtime-api</c> (armed, or why not) and, once armed, one harvest per invocation,
/// written by the function itself when its runtime client asks for the next invocation
/// (src/Sealights.Coverage.Probes/README.md, "Invocation boundaries"). Each harvest is a negative
/// sequence's <c>ModuleHits</c> chunks and its <c>InvocationEnded</c>; a completed one goes to
/// <paramref name="harvested"/> with the time it was written. Events of the agent's own flushes
/// (positive sequences) also reach this session and are left to their flush's reader. Runs on the
/// session's reader thread and on the harvest socket's (<see cref="HarvestDatagramSocket"/>): one at a time.
/// </summary>
internal sealed class InvocationHarvests(Action<ProbeFlushReader, DateTimeOffset> harvested, Action<string> problem) : INetTraceEventHandler
{
    // Harvests in the making at once: one normally. Bounds memory against a stream that never ends them.
    private const int MaxOpen = 8;

    private readonly object _lock = new();
    private readonly Dictionary<int, ProbeFlushReader> _open = [];
    // Completed harvests by order (1 for sequence -1, …) until the ones before them are handed over:
    // each harvest is written on the thread that asked for the next invocation, and a stream
    // holds each thread's events in order but not one thread's against another's.
    private readonly SortedDictionary<int, (ProbeFlushReader Reader, DateTimeOffset At)> _done = [];
    private int _nextToHand = 1;
    private readonly TaskCompletionSource<(bool Armed, string Detail)> _armed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The library's answer: armed (with the Runtime API address it watches) or not (why).</summary>
    public Task<(bool Armed, string Detail)> Answer => _armed.Task;

    /// <summary>Whether the library harvests at every invocation's end.</summary>
    public bool IsArmed => _armed.Task.IsCompletedSuccessfully && _armed.Task.Result.Armed;

    public void OnTraceStarted(int processId)
    {
    }

    public void OnEvent(in NetTraceEvent traceEvent)
    {
        if (traceEvent.Provider != TraceProvider.Coverage)
        {
            return;
        }

        switch (traceEvent.EventId)
        {
            case CoveragePayloads.BoundariesArmedEvent or CoveragePayloads.BoundariesUnavailableEvent:
                if (CoveragePayloads.TryReadText(traceEvent.Payload, out var detail))
                {
                    _armed.TrySetResult((traceEvent.EventId == CoveragePayloads.BoundariesArmedEvent, detail));
                }
                else
                {
                    problem("the library's answer to invocations=runtime-api does not parse: the agent flushes by itself");
                }

                break;
            case CoveragePayloads.ModuleHitsEvent or CoveragePayloads.InvocationEndedEvent or CoveragePayloads.FlushFailedEvent:
                lock (_lock)
                {
                    OnHarvestEvent(traceEvent);
                }

                break;
            default:
                break;
        }
    }

    private void OnHarvestEvent(in NetTraceEvent traceEvent)
    {
        // Every one of these payloads starts with its sequence.
        if (traceEvent.Payload.Length < 4)
        {
            problem("a coverage event too short to name its harvest: skipped");
            return;
        }

        var sequence = BinaryPrimitives.ReadInt32LittleEndian(traceEvent.Payload);
        if (sequence >= 0)
        {
            return;
        }

        if (!_open.TryGetValue(sequence, out var reader))
        {
            if (_open.Count >= MaxOpen)
            {
                // The oldest harvest never ended (its InvocationEnded was lost): what it had is dropped, said once.
                var oldest = _open.Keys.Max();
                problem($"an invocation's harvest (sequence {oldest}) never ended in the stream: its {_open[oldest].Modules.Sum(m => m.Indices.Count)} hits are dropped");
                _open.Remove(oldest);
            }

            reader = new ProbeFlushReader(sequence);
            _open.Add(sequence, reader);
        }

        reader.OnEvent(traceEvent);
        if (reader.Answered.IsCompleted)
        {
            _open.Remove(sequence);
            _done[-sequence] = (reader, new DateTimeOffset(traceEvent.TimestampUtc, TimeSpan.Zero));
            HandOverLocked(all: false);
        }
    }

    /// <summary>
    /// Hands over the completed harvests in invocation order; a gap (a harvest whose end was lost)
    /// is waited for while fewer than <see cref="MaxOpen"/> wait behind it, or when
    /// <paramref name="all"/> (the stream has ended) not at all.
    /// </summary>
    public void HandOver(bool all)
    {
        lock (_lock)
        {
            HandOverLocked(all);
        }
    }

    private void HandOverLocked(bool all)
    {
        while (_done.Count > 0)
        {
            var (order, harvest) = _done.First();
            if (order != _nextToHand && !all && _done.Count <= MaxOpen)
            {
                return;
            }

            if (order > _nextToHand)
            {
                problem($"harvests {_nextToHand} to {order - 1} never completed in the stream: what they held is lost");
            }

            _done.Remove(order);
            _nextToHand = order + 1;
            harvested(harvest.Reader, harvest.At);
        }
    }
}
