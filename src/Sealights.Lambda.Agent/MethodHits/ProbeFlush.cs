using Sealights.Coverage;
using Sealights.Lambda.Agent.Diagnostics;
using Sealights.Lambda.Agent.Diagnostics.NetTrace;

namespace Sealights.Lambda.Agent.MethodHits;

/// <summary>
/// One probe flush of one runtime: <see cref="StartAsync"/> returns once the library has
/// harvested its hits into the session's buffers (the caller may answer <c>next</c> then);
/// <see cref="FinishAsync"/> stops the session, reads the chunks and maps them to source methods.
/// </summary>
internal sealed class ProbeFlush
{
    private readonly TraceSession _session;
    private readonly ProbeFlushReader _reader;
    private readonly DateTimeOffset _intervalStart;
    private Exception? _readError;
    private volatile bool _closing;

    /// <summary>
    /// How long after the harvest the answer may take to come out of the runtime without a stop:
    /// its EventPipe writer passes at least every 100 ms. Past it the session is stopped.
    /// </summary>
    internal static readonly TimeSpan AnswerWait = TimeSpan.FromSeconds(1);

    /// <summary>The same wait before the runtime exits: a new session's first pass comes at once; past this it is stopped.</summary>
    internal static readonly TimeSpan FinalAnswerWait = TimeSpan.FromMilliseconds(100);

    private ProbeFlush(TraceSession session, ProbeFlushReader reader, DateTimeOffset intervalStart, DateTimeOffset harvestedAt)
    {
        _session = session;
        _reader = reader;
        _intervalStart = intervalStart;
        HarvestedAt = harvestedAt;
    }

    /// <summary>When the session-start command returned: the hits are those taken before it.</summary>
    public DateTimeOffset HarvestedAt { get; }

    /// <summary>Starts the flush session (the library answers inside the start command).</summary>
    /// <param name="runtime">The connected runtime.</param>
    /// <param name="sequence">This flush's number (> 0, increasing).</param>
    /// <param name="intervalStart">The start of what this flush covers (its invocation's INVOKE, or the previous flush).</param>
    /// <param name="counters">Where bytes and events are counted.</param>
    /// <param name="cancellationToken">Bounds the start command.</param>
    public static async Task<ProbeFlush> StartAsync(RuntimeConnection runtime, int sequence, DateTimeOffset intervalStart, TraceCounters counters, CancellationToken cancellationToken)
    {
        var reader = new ProbeFlushReader(sequence);
        ProbeFlush? flush = null;
        var errors = new List<Exception>(1);
        var session = await runtime.StartProbeFlushAsync(
            sequence,
            stream => Read(stream, reader, counters),
            e =>
            {
                lock (errors)
                {
                    if (flush is null)
                    {
                        errors.Add(e);
                    }
                    else if (!flush._closing)
                    {
                        // The agent closing the stream after the answer is not a fault.
                        flush._readError = e;
                    }
                }
            },
            cancellationToken);
        lock (errors)
        {
            flush = new ProbeFlush(session, reader, intervalStart, DateTimeOffset.UtcNow) { _readError = errors.FirstOrDefault() };
        }

        return flush;
    }

    /// <summary>Reads one flush session's stream (also used by tests on recorded or damaged streams).</summary>
    public static void Read(Stream stream, INetTraceEventHandler reader, TraceCounters counters)
    {
        var netTrace = new NetTraceReader(stream);
        try
        {
            netTrace.Read(reader);
        }
        finally
        {
            counters.AddEvents(netTrace.EventsRead);
            counters.AddEventsLost(netTrace.EventsLost);
        }
    }

    /// <summary>
    /// Reads the flush and maps what it held. The session is NOT stopped once the answer has come:
    /// a stop holds the runtime's diagnostic server ~100 ms (its EventPipe writer sleeps 100 ms per
    /// pass, and the stop waits for it), and the next flush's start would wait behind it. Its stream
    /// is closed instead; the runtime ends the session by itself at its next write to it (the next
    /// flush's events), on the session's own thread. Without an answer in time (shorter when
    /// <paramref name="stop"/>: the runtime is about to exit) the session is stopped.
    /// </summary>
    public async Task<ProbeFlushResult> FinishAsync(ProbedAssemblies probed, ApplicationModules application, bool stop, CancellationToken cancellationToken)
    {
        try
        {
            // Before the runtime's exit the wait is short: the exec wrapper holds its SIGTERM 200 ms at most.
            await Task.WhenAny(_reader.Answered, _session.Completion, Task.Delay(stop ? FinalAnswerWait : AnswerWait, cancellationToken));
            var answered = _reader.Answered.IsCompleted;
            if (!answered)
            {
                await _session.StopAsync(cancellationToken);
            }
            else
            {
                _closing = true;
            }
        }
        finally
        {
            _session.Dispose();
        }

        // The reader thread ends with the closed stream: only then is its state complete and still.
        await _session.Completion.WaitAsync(AnswerWait, cancellationToken);
        return Map(_reader, _readError, probed, application, _intervalStart, HarvestedAt);
    }

    /// <summary>The hits of a read flush: indices → tokens → the catalogs' source methods, each once.</summary>
    public static ProbeFlushResult Map(ProbeFlushReader reader, Exception? readError, ProbedAssemblies probed, ApplicationModules application, DateTimeOffset from, DateTimeOffset to)
    {
        var problems = new List<string>();
        long dropped = 0;
        if (readError is not null)
        {
            problems.Add($"its stream could not be read to the end ({readError.GetType().Name}: {readError.Message}); what was read counts");
        }

        if (reader.Failure is { } failure)
        {
            problems.Add($"the probes library failed: {failure}");
        }

        if (reader.Completed is { } completed && completed.Chunks != reader.ChunksReceived)
        {
            var missing = Math.Max(0, completed.Chunks - reader.ChunksReceived);
            dropped += Math.Max(0, completed.Methods - reader.Modules.Sum(m => (long)m.Indices.Count));
            problems.Add($"{missing} of {completed.Chunks} chunks never arrived (the runtime dropped them): their methods are lost");
        }

        if (reader.Malformed > 0)
        {
            problems.Add($"{reader.Malformed} malformed records skipped");
        }

        var identities = new HashSet<MethodIdentity>();
        foreach (var module in reader.Modules)
        {
            var path = probed.PathOf(module.AssemblyName, module.Mvid);
            var catalog = path is null ? null : application.CatalogFor(path);
            if (catalog is null)
            {
                dropped += module.Indices.Count;
                problems.Add(path is null
                    ? $"module {module.AssemblyName} {module.Mvid} is not an instrumented assembly of {application.TaskRoot} (name and MVID must match the file): its {module.Indices.Count} hits are dropped"
                    : $"no source methods known for {path}: its {module.Indices.Count} hits are dropped");
                continue;
            }

            foreach (var index in module.Indices)
            {
                // State machines' MoveNext and their kickoff method are one identity: the set keeps it once.
                if (catalog.TryResolve(ProbedModuleHits.Token(index), out var identity))
                {
                    identities.Add(identity);
                }
            }
        }

        var hits = identities
            .Select(identity => new MethodHit(identity, from, to))
            .OrderBy(h => h.Method.Id, StringComparer.Ordinal)
            .ToList();
        return new ProbeFlushResult(hits, reader.Completed is not null, dropped, problems);
    }
}

/// <summary>What one probe flush yielded.</summary>
/// <param name="Hits">Every source method executed in the flush's interval, once.</param>
/// <param name="Answered">The library completed the flush (false: no instrumented module has registered yet, or it failed).</param>
/// <param name="Dropped">Hits that could not be kept (module mismatch, missing chunks).</param>
/// <param name="Problems">One entry per kind of fault, for the log.</param>
internal sealed record ProbeFlushResult(IReadOnlyList<MethodHit> Hits, bool Answered, long Dropped, IReadOnlyList<string> Problems);
