using Sealights.Lambda.Agent.Diagnostics;
using Sealights.Lambda.Agent.Diagnostics.NetTrace;

namespace Sealights.Lambda.Agent.MethodHits;

/// <summary>
/// Reads one probe flush from its session's stream: the <c>ModuleHits</c> chunks and the
/// <c>FlushCompleted</c> (or <c>FlushFailed</c>) of its sequence; for a harvest at an invocation's
/// end (a negative sequence, see <see cref="InvocationHarvests"/>) its <c>InvocationEnded</c>. Runs on the session's thread and
/// only collects indices; mapping them to methods happens after the stream ended. Anything that
/// does not fit the contract (a repeated chunk, an index outside its module, a payload that does
/// not parse) is counted as malformed and skipped; another flush's events are skipped silently.
/// </summary>
internal sealed class ProbeFlushReader(int sequence) : INetTraceEventHandler
{
    // Bounds memory against a hostile stream: no real flush comes near it (a module has < 2^24 methods).
    private const int MaxIndices = 16 * 1024 * 1024;

    private readonly HashSet<int> _chunks = [];
    private readonly TaskCompletionSource _answered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<(string Name, Guid Mvid), ProbedModuleHits> _modules = [];
    private int _indices;

    public int Sequence { get; } = sequence;

    /// <summary>The library's end-of-flush record, when it came.</summary>
    public FlushCompletedPayload? Completed { get; private set; }

    /// <summary>The invocation a boundary harvest ended (empty: init); null for a flush.</summary>
    public string? RequestId { get; private set; }

    /// <summary>The library's reason when the flush failed inside the runtime.</summary>
    public string? Failure { get; private set; }

    /// <summary>Completes when this flush's FlushCompleted or FlushFailed was read: nothing of it comes after.</summary>
    public Task Answered => _answered.Task;

    /// <summary>Chunks received (each counted once).</summary>
    public int ChunksReceived => _chunks.Count;

    /// <summary>Events of the coverage provider that did not fit the contract.</summary>
    public int Malformed { get; private set; }

    /// <summary>The modules with hits, each with its indices (MethodDef RID − 1) in arrival order.</summary>
    public IReadOnlyCollection<ProbedModuleHits> Modules => _modules.Values;

    public void OnTraceStarted(int processId)
    {
    }

    public void OnEvent(in NetTraceEvent traceEvent)
    {
        // After the answer nothing of this flush follows (a later flush's events may: the session lives on).
        if (traceEvent.Provider != TraceProvider.Coverage || _answered.Task.IsCompleted)
        {
            return;
        }

        switch (traceEvent.EventId)
        {
            case CoveragePayloads.ModuleHitsEvent:
                OnModuleHits(traceEvent.Payload);
                break;
            case CoveragePayloads.FlushCompletedEvent:
                if (!CoveragePayloads.TryReadFlushCompleted(traceEvent.Payload, out var completed))
                {
                    Malformed++;
                }
                else if (completed.Sequence == Sequence)
                {
                    Completed = completed;
                    _answered.TrySetResult();
                }

                break;
            case CoveragePayloads.InvocationEndedEvent:
                if (!CoveragePayloads.TryReadInvocationEnded(traceEvent.Payload, out var requestId, out var ended))
                {
                    Malformed++;
                }
                else if (ended.Sequence == Sequence)
                {
                    RequestId = requestId;
                    Completed = ended;
                    _answered.TrySetResult();
                }

                break;
            case CoveragePayloads.FlushFailedEvent:
                if (!CoveragePayloads.TryReadFlushFailed(traceEvent.Payload, out var failed, out var reason))
                {
                    Malformed++;
                }
                else if (failed == Sequence)
                {
                    Failure = reason;
                    _answered.TrySetResult();
                }

                break;
            default:
                // The EventSource's own records (e.g. a manifest) or a newer library's events.
                break;
        }
    }

    private void OnModuleHits(ReadOnlySpan<byte> payload)
    {
        if (!CoveragePayloads.TryReadModuleHits(payload, out var header, out var indices))
        {
            Malformed++;
            return;
        }

        if (header.Sequence != Sequence)
        {
            // Another flush's chunk (this session still open when it was harvested): not ours.
            return;
        }

        if (!_chunks.Add(header.Chunk))
        {
            Malformed++;
            return;
        }

        var key = (header.AssemblyName, header.Mvid);
        if (!_modules.TryGetValue(key, out var module))
        {
            module = new ProbedModuleHits(header.AssemblyName, header.Mvid, header.MethodDefCount);
            _modules.Add(key, module);
        }

        var count = indices.Length / 4;
        for (var i = 0; i < count; i++)
        {
            var index = CoveragePayloads.IndexAt(indices, i);
            if (index < 0 || index >= header.MethodDefCount || _indices >= MaxIndices)
            {
                Malformed++;
                continue;
            }

            module.Indices.Add(index);
            _indices++;
        }
    }
}

/// <summary>One module's hits in one flush, as the library named it.</summary>
internal sealed class ProbedModuleHits(string assemblyName, Guid mvid, int methodDefCount)
{
    public string AssemblyName { get; } = assemblyName;

    public Guid Mvid { get; } = mvid;

    public int MethodDefCount { get; } = methodDefCount;

    public List<int> Indices { get; } = [];

    /// <summary>The MethodDef token of an index: the index is the RID minus one.</summary>
    public static int Token(int index) => 0x06000000 | (index + 1);
}
