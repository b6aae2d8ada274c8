using System.Diagnostics.Tracing;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Sealights.Coverage.Probes;

/// <summary>
/// The flush end of the contract (README.md, "Flush protocol"): an EventPipe session that enables
/// this source with <c>flush=&lt;seq&gt;</c> gets, synchronously inside <see cref="OnEventCommand"/>,
/// every method hit since the previous flush as <see cref="ModuleHits"/> chunks, then
/// <see cref="FlushCompleted"/>. Nothing here throws into the application.
/// </summary>
[EventSource(Name = SourceName)]
internal sealed class CoverageEventSource : EventSource
{
    public const string SourceName = "Sealights-Coverage";

    /// <summary>60,000 bytes of indices per chunk: EventPipe drops an event over 64 KB silently.</summary>
    public const int MaxIndicesPerChunk = 15_000;

    internal const int ModuleHitsId = 1;
    private const int FlushCompletedId = 2;
    private const int FlushFailedId = 3;
    internal const int InvocationEndedId = 4;
    private const int BoundariesArmedId = 5;
    private const int BoundariesUnavailableId = 6;

    private static CoverageEventSource? _instance;
    // Kept for the process's lifetime: disposing it would unregister the handler.
    private static PosixSignalRegistration? _exitHook;

    private readonly object _flushLock = new();
    // One buffer for every chunk of every flush: a flush allocates nothing else.
    private readonly byte[] _chunk = new byte[MaxIndicesPerChunk * sizeof(int)];
    private int _lastSequence;
    // Set once construction is over: an Enable that arrives during it comes from a session that
    // was on before the source existed, and may be stopping right now (its events would be lost
    // with the hits they carry). Such a flush is left unanswered: its hits stay for the next one.
    private volatile bool _ready;
    // Boundary harvests are numbered by the library, downwards from -1: the agent's flushes count up.
    private int _boundarySequence;
    // An Enable asking for invocation boundaries that came during construction: armed right after it.
    private volatile bool _boundariesRequested;
    // The agent's datagram socket for boundary harvests (harvests=<path>), once connected.
    private volatile string? _harvestsPath;
    private HarvestDatagrams? _datagrams;
    // The hits one harvest exchanged, module by module, before they go out (reused; grows with the largest harvest).
    private int[] _collected = new int[1024];
    private readonly List<(ProbedModule Module, int Start, int Count)> _collectedModules = [];

    private CoverageEventSource()
    {
    }

    private static int _creationStarted;

    /// <summary>
    /// Creates the source once, on a thread of its own, and returns at once. The first EventSource
    /// of a process pays for the EventSource machinery (measured 10–28 ms on a loaded 2-core
    /// machine; 0.14–0.22 ms once any other EventSource exists, e.g. after an HttpClient request);
    /// the first registration runs on the function's init path, which must not wait for that.
    /// A flush session started before the source exists still reaches it when it is created.
    /// Never throws.
    /// </summary>
    public static void CreateInBackground()
    {
        if (Interlocked.Exchange(ref _creationStarted, 1) != 0)
        {
            return;
        }

        if (WhyNobodyCanRead(Environment.GetEnvironmentVariable) is { } why)
        {
            NotCreatedBecause = why;
            return;
        }

        try
        {
            // Not the thread pool: its first use in a process costs 7–11 ms on the calling thread.
            new Thread(EnsureCreated) { IsBackground = true, Name = "Sealights coverage" }.Start();
        }
        catch
        {
            EnsureCreated();
        }
    }

    /// <summary>Why the source was not made (<see cref="WhyNobodyCanRead"/>), or null.</summary>
    internal static string? NotCreatedBecause { get; private set; }

    /// <summary>
    /// Why no agent can ever read this source in this process, or null when one may. On Lambda
    /// (<c>AWS_LAMBDA_RUNTIME_API</c> set) nothing can attach to the runtime: the agent reaches it
    /// only through the connect-mode diagnostic port the image's entrypoint sets when coverage is on
    /// (<c>DOTNET_DiagnosticPorts</c>). An instrumented function with coverage off (no token,
    /// <c>SL_ENABLED=false</c>) would pay the source's creation for nothing, in its init: measured on
    /// the sample function at one CPU, its thread's CPU ~4.6 ms per cold start (perf), Init Duration
    /// −5.2 ms without it (median of 20 interleaved pairs; the spread is ±30 ms). Its probes still
    /// count; nobody takes the hits. Outside Lambda any tool may attach: made as before.
    /// </summary>
    internal static string? WhyNobodyCanRead(Func<string, string?> variable)
    {
        if (string.IsNullOrWhiteSpace(variable("AWS_LAMBDA_RUNTIME_API")) || AgentPortSet(variable))
        {
            return null;
        }

        return "on Lambda without a diagnostic port (coverage is off for this function): no agent can read the hits";
    }

    /// <summary>Whether the runtime was told at its start to connect to an agent (the runtime reads both prefixes).</summary>
    private static bool AgentPortSet(Func<string, string?> variable) =>
        !string.IsNullOrWhiteSpace(variable("DOTNET_DiagnosticPorts")) || !string.IsNullOrWhiteSpace(variable("COMPlus_DiagnosticPorts"));

    /// <summary>Creates the source once (the first module's registration). Never throws.</summary>
    public static void EnsureCreated()
    {
        if (Volatile.Read(ref _instance) is not null)
        {
            return;
        }

        try
        {
            var created = new CoverageEventSource();
            created._ready = true;
            if (Interlocked.CompareExchange(ref _instance, created, null) is not null)
            {
                created.Dispose();
                return;
            }

            HoldExitForSessions();
            if (created._boundariesRequested)
            {
                created.ArmBoundaries();
            }
        }
        catch
        {
            // No source, no flush: the probes keep working, their hits are simply never reported.
        }
    }

    /// <summary>One chunk of one module's hits: little-endian int32 MethodDef indices (RID − 1).</summary>
    [Event(ModuleHitsId, Level = EventLevel.Informational)]
    public void ModuleHits(int sequence, int chunk, string assemblyName, Guid mvid, int methodDefCount, byte[] indices) =>
        WriteModuleHits(sequence, chunk, assemblyName, mvid, methodDefCount, indices, indices.Length);

    /// <summary>The flush is complete: the agent knows how many chunks to expect.</summary>
    [Event(FlushCompletedId, Level = EventLevel.Informational)]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only primitives.")]
    public unsafe void FlushCompleted(int sequence, int chunks, int modules, int methods)
    {
        // Four ints have no WriteEvent overload but params object[]: boxing, avoided.
        var data = stackalloc EventData[4];
        data[0] = Data(&sequence, sizeof(int));
        data[1] = Data(&chunks, sizeof(int));
        data[2] = Data(&modules, sizeof(int));
        data[3] = Data(&methods, sizeof(int));
        WriteEventCore(FlushCompletedId, 4, data);
    }

    /// <summary>The flush failed; what it had exchanged is lost (said by the agent, once).</summary>
    [Event(FlushFailedId, Level = EventLevel.Informational)]
    public void FlushFailed(int sequence, string reason) => WriteEvent(FlushFailedId, sequence, reason);

    /// <summary>
    /// The hits of one invocation, harvested where it ended (<see cref="RuntimeApiBoundary"/>):
    /// <see cref="ModuleHits"/> chunks of a negative sequence, then this.
    /// </summary>
    [Event(InvocationEndedId, Level = EventLevel.Informational)]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only primitives and a string.")]
    public unsafe void InvocationEnded(int sequence, string requestId, int chunks, int modules, int methods)
    {
        fixed (char* id = requestId)
        {
            var data = stackalloc EventData[5];
            data[0] = Data(&sequence, sizeof(int));
            data[1] = Data(id, (requestId.Length + 1) * sizeof(char));
            data[2] = Data(&chunks, sizeof(int));
            data[3] = Data(&modules, sizeof(int));
            data[4] = Data(&methods, sizeof(int));
            WriteEventCore(InvocationEndedId, 5, data);
        }
    }

    /// <summary>Invocation boundaries are armed: every invocation's hits come by themselves, at its end.</summary>
    [Event(BoundariesArmedId, Level = EventLevel.Informational)]
    public void BoundariesArmed(string runtimeApi) => WriteEvent(BoundariesArmedId, runtimeApi);

    /// <summary>Invocation boundaries cannot be armed here: the agent flushes by itself.</summary>
    [Event(BoundariesUnavailableId, Level = EventLevel.Informational)]
    public void BoundariesUnavailable(string reason) => WriteEvent(BoundariesUnavailableId, reason);

    protected override void OnEventCommand(EventCommandEventArgs command)
    {
        try
        {
            // Disable comes with every session's stop, even while another session is on: ignored.
            if (command.Command != EventCommand.Enable)
            {
                return;
            }

            if (BoundariesAsked(command.Arguments))
            {
                // During construction the answer waits until the source is complete (EnsureCreated).
                _harvestsPath ??= HarvestsPath(command.Arguments);
                _boundariesRequested = true;
                if (_ready)
                {
                    ArmBoundaries();
                }
            }

            if (!_ready || FlushSequence(command.Arguments) is not { } sequence)
            {
                return;
            }

            lock (_flushLock)
            {
                if (sequence <= _lastSequence)
                {
                    return;
                }

                _lastSequence = sequence;
                Flush(sequence);
            }
        }
        catch
        {
            // Never into the application (this runs on the runtime's diagnostics thread, or on the
            // thread creating the source when a session was already on).
        }
    }

    /// <summary>
    /// A session asking for <c>invocations=runtime-api</c> (the agent's standing session): arm the
    /// Runtime API boundary (once per process) and say so, or say why not. Never throws.
    /// </summary>
    private void ArmBoundaries(bool onThreadOfItsOwn = false)
    {
        try
        {
            if (RuntimeApiBoundary.RuntimeApi(out var problem) is not { } api)
            {
                BoundariesUnavailable(problem);
                return;
            }

            lock (_flushLock)
            {
                if (_datagrams is null && _harvestsPath is { } path)
                {
                    _datagrams = HarvestDatagrams.Connect(path);
                }
            }

            RuntimeApiBoundary.Arm(this, api);
            BoundariesArmed(api.Text);
        }
        catch (InvalidOperationException) when (!onThreadOfItsOwn)
        {
            // Asked from inside an EventListener's callback (an in-process listener enabled this
            // source), where no listener may be created: arm from a thread of its own instead.
            try
            {
                // A static lambda: a closure over this would be an instance method of this
                // EventSource, which the EventSource machinery takes for an event.
                new Thread(static source => ((CoverageEventSource)source!).ArmBoundaries(onThreadOfItsOwn: true)) { IsBackground = true, Name = "Sealights coverage boundary" }.Start(this);
            }
            catch (Exception e)
            {
                BoundariesUnavailable($"{e.GetType().Name}: {e.Message}");
            }
        }
        catch (Exception e)
        {
            BoundariesUnavailable($"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>
    /// Harvests what ran since the previous harvest as the hits of invocation
    /// <paramref name="requestId"/> (empty: init). Runs on the function's thread that is about to ask
    /// for the next invocation. With no session listening the hits stay for whoever asks later.
    /// </summary>
    internal void HarvestAtBoundary(string requestId)
    {
        if (!IsEnabled())
        {
            return;
        }

        lock (_flushLock)
        {
            var sequence = _boundarySequence == int.MinValue ? _boundarySequence = -1 : --_boundarySequence;
            if (Harvest(sequence, requestId) is { } totals)
            {
                InvocationEnded(sequence, requestId, totals.Chunks, totals.Modules, totals.Methods);
            }
        }
    }

    /// <summary>
    /// Lambda ends the runtime with SIGTERM, which raises no ProcessExit in .NET (it exits 143 at
    /// once); a <see cref="PosixSignalRegistration"/> handler runs first, the signal's default
    /// action after it. Registered once, when the source is made. Never throws.
    /// </summary>
    private static void HoldExitForSessions()
    {
        try
        {
            _exitHook = PosixSignalRegistration.Create(PosixSignal.SIGTERM, static _ => Volatile.Read(ref _instance)?.HarvestAtExit());
        }
        catch (Exception e) when (e is PlatformNotSupportedException or IOException or UnauthorizedAccessException)
        {
            // No hold at exit: what a session still buffers when the runtime ends may be lost.
        }
    }

    /// <summary>
    /// At SIGTERM (Lambda's end of the runtime; the signal's default action, exit, follows), while
    /// a session listens: when the invocation boundary is armed, harvests what ran after the last
    /// invocation; then holds the exit for <see cref="ExitWriteWait"/>. A process that exits loses
    /// the events its EventPipe buffers still hold (the stream is cut mid-block), and the runtime's
    /// writer sends them out only on its next pass, at most ~100 ms after they were written: after
    /// a freeze, the last invocation's harvest may still wait there, and an agent's flush may still
    /// be streaming. Lambda gives the runtime up to 300 ms after SIGTERM. Never throws.
    /// </summary>
    internal void HarvestAtExit()
    {
        try
        {
            if (!IsEnabled() && !SessionComesBeforeExit())
            {
                return;
            }

            if (RuntimeApiBoundary.IsArmed)
            {
                HarvestAtBoundary(ExitRequestId);
            }

            Thread.Sleep(ExitWriteWait);
        }
        catch
        {
            // Exiting anyway.
        }
    }

    /// <summary>
    /// No session listens at SIGTERM. Before the boundary is armed the agent harvests by flushes, and
    /// its first one can still be on its way: started after the first response, cut short by its
    /// budget, frozen, and resumed by the thaw that brought this very SIGTERM (a quick stop after a
    /// first invocation, as in a local run). Exiting at once would lose everything that ran. So,
    /// when the runtime was told to connect to an agent, the exit waits a little for a session.
    /// </summary>
    private bool SessionComesBeforeExit()
    {
        if (RuntimeApiBoundary.IsArmed || !AgentPortSet(Environment.GetEnvironmentVariable))
        {
            return false;
        }

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!IsEnabled() && waited.Elapsed < SessionAtExitWait)
        {
            Thread.Sleep(5);
        }

        return IsEnabled();
    }

    /// <summary>How long the exit waits for an agent's flush when no session listens (with <see cref="ExitWriteWait"/>, within Lambda's 300 ms after SIGTERM).</summary>
    internal static readonly TimeSpan SessionAtExitWait = TimeSpan.FromMilliseconds(100);

    /// <summary>The request id of the harvest at the process's exit (Lambda's are UUIDs).</summary>
    public const string ExitRequestId = "exit";

    /// <summary>One pass of the runtime's EventPipe writer (it sleeps 100 ms after each), and some margin.</summary>
    internal static readonly TimeSpan ExitWriteWait = TimeSpan.FromMilliseconds(150);

    // The agent's socket for boundary harvests: an absolute path, else none (events only).
    private static string? HarvestsPath(IDictionary<string, string?>? arguments) =>
        arguments is not null && arguments.TryGetValue("harvests", out var path) && path is { Length: > 1 } && path[0] == '/' ? path : null;

    private static bool BoundariesAsked(IDictionary<string, string?>? arguments) =>
        arguments is not null && arguments.TryGetValue("invocations", out var how) && how == "runtime-api";

    private static int? FlushSequence(IDictionary<string, string?>? arguments) =>
        arguments is not null
        && arguments.TryGetValue("flush", out var text)
        && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
        && sequence > 0
            ? sequence
            : null;

    private void Flush(int sequence)
    {
        if (Harvest(sequence, requestId: null) is { } totals)
        {
            FlushCompleted(sequence, totals.Chunks, totals.Modules, totals.Methods);
        }
    }

    /// <summary>
    /// Takes every hit since the last harvest. A boundary harvest (<paramref name="requestId"/> set)
    /// goes in one datagram when the agent gave a socket and it fits, and null is returned: nothing
    /// more to write. Otherwise the hits are written as chunks of <paramref name="sequence"/> and
    /// their totals returned; null (FlushFailed written) on a fault.
    /// </summary>
    private (int Chunks, int Modules, int Methods)? Harvest(int sequence, string? requestId)
    {
        int methods;
        try
        {
            methods = Collect();
        }
        catch (Exception e)
        {
            FlushFailed(sequence, $"{e.GetType().Name} while harvesting: {e.Message}");
            return null;
        }

        if (requestId is not null && _datagrams is { } datagrams && SentAsDatagram(datagrams, sequence, requestId, methods))
        {
            return null;
        }

        var chunks = 0;
        try
        {
            foreach (var (module, start, count) in _collectedModules)
            {
                for (var from = 0; from < count; from += MaxIndicesPerChunk)
                {
                    var length = Math.Min(MaxIndicesPerChunk, count - from);
                    WriteIndices(start + from, length);
                    WriteModuleHits(sequence, chunks++, module.AssemblyName, module.Mvid, module.Hits.Length, _chunk, length * sizeof(int));
                }
            }

            return (chunks, _collectedModules.Count, methods);
        }
        catch (Exception e)
        {
            FlushFailed(sequence, $"{e.GetType().Name} after {chunks} chunks: {e.Message}");
            return null;
        }
    }

    /// <summary>Exchanges every hit out of the modules' arrays into <see cref="_collected"/>; returns how many.</summary>
    private int Collect()
    {
        _collectedModules.Clear();
        var total = 0;
        foreach (var module in ProbedModules.Snapshot())
        {
            var hits = module.Hits;
            var start = total;
            for (var i = 0; i < hits.Length; i++)
            {
                // Read first: the exchange (a locked write) only where a probe wrote.
                if (Volatile.Read(ref hits[i]) == 0 || Interlocked.Exchange(ref hits[i], 0) == 0)
                {
                    continue;
                }

                if (total == _collected.Length)
                {
                    Array.Resize(ref _collected, _collected.Length * 2);
                }

                _collected[total++] = i;
            }

            if (total > start)
            {
                _collectedModules.Add((module, start, total - start));
            }
        }

        return total;
    }

    /// <summary>The collected hits and the harvest's end in one datagram; false when it does not fit or could not go (then they are written as events).</summary>
    private bool SentAsDatagram(HarvestDatagrams datagrams, int sequence, string requestId, int methods)
    {
        try
        {
            datagrams.Begin(DateTime.UtcNow.Ticks);
            var chunks = 0;
            foreach (var (module, start, count) in _collectedModules)
            {
                for (var from = 0; from < count; from += MaxIndicesPerChunk)
                {
                    var length = Math.Min(MaxIndicesPerChunk, count - from);
                    WriteIndices(start + from, length);
                    if (!datagrams.AddModuleHits(sequence, chunks++, module.AssemblyName, module.Mvid, module.Hits.Length, _chunk.AsSpan(0, length * sizeof(int))))
                    {
                        return false;
                    }
                }
            }

            return datagrams.AddInvocationEnded(sequence, requestId, chunks, _collectedModules.Count, methods) && datagrams.Send();
        }
        catch
        {
            return false;
        }
    }

    /// <summary>Collected indices <paramref name="from"/>.. as little-endian int32s at the start of the chunk buffer.</summary>
    private void WriteIndices(int from, int count)
    {
        for (var slot = 0; slot < count; slot++)
        {
            WriteIndex(slot, _collected[from + slot]);
        }
    }

    private void WriteIndex(int slot, int index)
    {
        var at = slot * sizeof(int);
        _chunk[at] = (byte)index;
        _chunk[at + 1] = (byte)(index >> 8);
        _chunk[at + 2] = (byte)(index >> 16);
        _chunk[at + 3] = (byte)(index >> 24);
    }

    // WriteEventCore over pinned data: no boxing, no params array, no copy of the chunk.
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only primitives, a string, a Guid and bytes: nothing the trimmer could remove.")]
    private unsafe void WriteModuleHits(int sequence, int chunk, string assemblyName, Guid mvid, int methodDefCount, byte[] indices, int length)
    {
        fixed (char* name = assemblyName)
        fixed (byte* bytes = indices)
        {
            var data = stackalloc EventData[7];
            data[0] = Data(&sequence, sizeof(int));
            data[1] = Data(&chunk, sizeof(int));
            data[2] = Data(name, (assemblyName.Length + 1) * sizeof(char));
            data[3] = Data(&mvid, sizeof(Guid));
            data[4] = Data(&methodDefCount, sizeof(int));
            data[5] = Data(&length, sizeof(int));
            data[6] = Data(bytes, length);
            WriteEventCore(ModuleHitsId, 7, data);
        }
    }

    private static unsafe EventData Data(void* pointer, int size) => new() { DataPointer = (nint)pointer, Size = size };
}
