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
/// session's reader thread.
/// </summary>
internal sealed class InvocationHarvests(Action<ProbeFlushReader, DateTimeOffset> harvested, Action<string> problem) : INetTraceEventHandler
{
    // Harvests in the making at once: one normally. Bounds memory against a stream that never ends them.
    private const int MaxOpen = 8;

    private readonly Dictionary<int, ProbeFlushReader> _open = [];
    private readonly TaskCompletionSource<(bool Armed, string Detail)> _armed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The library's answer: armed (with the Runtime API address it watches) or not (why).</summary>
    public Task<(bool Armed, string Detail)> Answer => _armed.Task;

    /// <summary>Whether the library harvests at every invocation's end.</summary>
    public bool IsArmed => _armed.Task.IsCompletedSuccessfully && _armed.Task.Result.Armed;

    /// <summary>Harvests abandoned unfinished (more than <see cref="MaxOpen"/> open) or with a malformed end.</summary>
    public int Malformed { get; private set; }

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
                    Malformed++;
                    problem("the library's answer to invocations=runtime-api does not parse: the agent flushes by itself");
                }

                break;
            case CoveragePayloads.ModuleHitsEvent or CoveragePayloads.InvocationEndedEvent or CoveragePayloads.FlushFailedEvent:
                OnHarvestEvent(traceEvent);
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
            Malformed++;
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
                Malformed++;
            }

            reader = new ProbeFlushReader(sequence);
            _open.Add(sequence, reader);
        }

        reader.OnEvent(traceEvent);
        if (reader.Answered.IsCompleted)
        {
            _open.Remove(sequence);
            harvested(reader, new DateTimeOffset(traceEvent.TimestampUtc, TimeSpan.Zero));
        }
    }
}
