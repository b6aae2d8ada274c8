using Microsoft.Diagnostics.NETCore.Client;
using Sealights.Lambda.Agent.Diagnostics;

namespace Sealights.Lambda.Agent.MethodHits;

/// <summary>
/// The agent's source of method hits: listens on a private diagnostic socket for the function's
/// .NET runtime, keeps an EventPipe session open on whichever runtime process is connected
/// (accepting a new one after the previous exited), and turns its events into hits of the
/// application's source methods.
/// <para>
/// Never throws into the caller and never waits past the given budgets: a runtime that never
/// connects, dies, or misbehaves means fewer or no hits; an internal fault is logged once and
/// turns the collector off (empty results from then on).
/// </para>
/// </summary>
public sealed class MethodHitCollector : IAsyncDisposable
{
    /// <summary>
    /// How long a connected peer has to accept the first session before the agent listens for
    /// another. A live runtime answers in milliseconds; a runtime that connected while exiting
    /// never does (its next connection never comes).
    /// </summary>
    internal static readonly TimeSpan FirstSessionTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long the exited runtime's server stays up before the agent listens afresh. The
    /// session stream ends before the process does; closing the server at once makes the dying
    /// runtime reconnect and be accepted as the next runtime (then time out). While this server
    /// stays, a new runtime's connection waits in it and reconnects when it closes.
    /// </summary>
    internal static readonly TimeSpan ExitGrace = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long a connected runtime's first session waits for the application scan that decides
    /// whether to ask for ReadyToRun events; past it they are asked for (never miss a hit).
    /// </summary>
    internal static readonly TimeSpan ApplicationScanLimit = TimeSpan.FromSeconds(1);

    /// <summary>How long the first session's stream may take to name its process before rundown is asked for anyway.</summary>
    internal static readonly TimeSpan ProcessIdLimit = TimeSpan.FromMilliseconds(500);

    /// <summary>Upper bound of one flush's rotation, whatever the caller's token allows.</summary>
    internal static readonly TimeSpan RotationLimit = TimeSpan.FromSeconds(5);

    /// <summary>How long the first flush waits for a runtime connection the agent has not accepted yet.</summary>
    internal static readonly TimeSpan FirstConnectionWait = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan DisposeLimit = TimeSpan.FromSeconds(1);

    private readonly DiagnosticPortListener? _listener;
    private readonly ApplicationModules? _application;
    private readonly Action<string> _log;
    private readonly TraceCounters _counters = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _processesLock = new();
    private readonly List<ProcessMethodHits> _processes = [];
    private readonly HashSet<string> _loggedOnce = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _peerConnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private RuntimeConnection? _current;
    // The runtime accepted but not yet traced (its first session and any rundown are under way).
    private Task _connecting = Task.CompletedTask;
    private Task _acceptLoop = Task.CompletedTask;
    private volatile bool _faulted;
    private int _firstConnectionAwaited;
    private volatile bool _exitAnnounced;
    // The probed runtime's library harvested at its SIGTERM: nothing more can come from it.
    private volatile bool _exitHarvested;
    private int _stopped;
    private int _disposed;
    private int _collectingStarted;
    private Task<ProbedAssemblies>? _probedScan;
    private ProbedAssemblies _probed = ProbedAssemblies.None;
    private int _flushSequence;
    private readonly object _intervalLock = new();
    private DateTimeOffset _lastHarvest = DateTimeOffset.UtcNow;
    private DateTimeOffset? _invokedSinceHarvest;
    private DateTimeOffset? _lastInvoke;
    // INVOKE times by request id, until that invocation's harvest names it (a few at most).
    private readonly Dictionary<string, DateTimeOffset> _invokedAt = new(StringComparer.Ordinal);
    // The standing session's reader of the current probed runtime (invocation harvests).
    private volatile InvocationHarvests? _harvests;
    // The runtime whose standing session was started (a new runtime process gets its own).
    private RuntimeConnection? _standingFor;
    // Where that runtime sends its harvests as datagrams (one socket per runtime process).
    private HarvestDatagramSocket? _datagrams;
    private int _datagramSockets;

    /// <summary>How long the first flush waits for the library's answer to the standing session (it comes at once).</summary>
    internal static readonly TimeSpan StandingAnswerWait = TimeSpan.FromMilliseconds(500);
    // Who waits for which invocation's harvest, and the last few harvested (a wait may start late).
    private readonly Dictionary<string, TaskCompletionSource> _harvestWaits = new(StringComparer.Ordinal);
    private readonly Queue<string> _recentlyHarvested = new();

    private MethodHitCollector(string diagnosticPortPath, DiagnosticPortListener? listener, ApplicationModules? application, Action<string> log)
    {
        DiagnosticPortPath = diagnosticPortPath;
        _listener = listener;
        _application = application;
        _log = log;
        _faulted = listener is null;
    }

    /// <summary>The Unix socket the function's runtime connects to.</summary>
    public string DiagnosticPortPath { get; }

    /// <summary>The runtime's <c>DOTNET_DiagnosticPorts</c> value for <see cref="DiagnosticPortPath"/>: connect, never suspend.</summary>
    public string RuntimePortSetting => DiagnosticPortListener.RuntimePortSetting(DiagnosticPortPath);

    /// <summary>False when the collector could not listen or has turned itself off after a fault.</summary>
    public bool IsCollecting => !_faulted && Volatile.Read(ref _stopped) == 0;

    /// <summary>Whether a runtime process is connected and traced right now.</summary>
    public bool IsRuntimeConnected => _current is { } runtime && !runtime.Exited.IsCompleted;

    /// <summary>
    /// Completes when a process first connects to the diagnostic port (whether or not a trace
    /// could then be started: that failure has its own log line). Never completes when nothing
    /// connects.
    /// </summary>
    public Task FirstConnection => _peerConnected.Task;

    /// <summary>
    /// Whether a flush costs only a probe harvest (every application assembly carries probes): no
    /// session stop on its path, so flushing after every invocation is affordable.
    /// </summary>
    public bool FlushesCheaply => _current is { } runtime && !runtime.Exited.IsCompleted && !runtime.HasRuntimeEvents;

    /// <summary>
    /// Whether the connected runtime harvests every invocation by itself, at its end (the probes
    /// library armed its Runtime API boundary): the agent then neither flushes nor waits for it;
    /// each invocation's hits come to <see cref="InvocationHarvested"/>.
    /// </summary>
    public bool HarvestsAtBoundaries => FlushesCheaply && _harvests is { IsArmed: true };

    /// <summary>
    /// Whether the connected probed runtime has yet to be asked to harvest at invocation ends
    /// (<see cref="HarvestAtBoundariesFromNowOnAsync"/>, after its first flush); false once asked,
    /// whatever the answer.
    /// </summary>
    public bool ArmingPending => FlushesCheaply && _current is { } runtime && Volatile.Read(ref _standingFor) != runtime && !runtime.HasStandingSession;

    /// <summary>
    /// Told, on a session's reader thread, the hits of each invocation the runtime harvested at its
    /// end (and of its init, before the first). Must return at once and never throw.
    /// </summary>
    public Action<IReadOnlyList<MethodHit>>? InvocationHarvested { get; set; }

    /// <summary>
    /// An invocation began at <paramref name="at"/>: probe hits of the next flush are dated from the
    /// first INVOKE since the previous flush (not from that flush, which may be long before).
    /// </summary>
    public void MarkInvoked(DateTimeOffset at, string? requestId = null)
    {
        lock (_intervalLock)
        {
            if (requestId is not null && _recentlyHarvested.Contains(requestId))
            {
                // Seen only after its harvest (the agent runs at low priority): it began nothing since.
                return;
            }

            _invokedSinceHarvest ??= at;
            _lastInvoke = at;
            if (requestId is not null)
            {
                // Harvests name their invocation; one that never comes (a crashed runtime) must not pile up.
                if (_invokedAt.Count >= 64)
                {
                    _invokedAt.Clear();
                }

                _invokedAt[requestId] = at;
            }
        }
    }

    /// <summary>
    /// Completes once invocation <paramref name="requestId"/>'s own harvest has been read and handed to
    /// <see cref="InvocationHarvested"/>; never, when it never comes (the caller bounds the wait).
    /// </summary>
    public Task WhenHarvested(string requestId)
    {
        lock (_intervalLock)
        {
            if (_recentlyHarvested.Contains(requestId))
            {
                return Task.CompletedTask;
            }

            if (!_harvestWaits.TryGetValue(requestId, out var wait))
            {
                if (_harvestWaits.Count >= 64)
                {
                    _harvestWaits.Clear();
                }

                wait = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _harvestWaits.Add(requestId, wait);
            }

            return wait.Task;
        }
    }

    private void Harvested(string requestId)
    {
        TaskCompletionSource? wait;
        lock (_intervalLock)
        {
            if (_recentlyHarvested.Count >= 8)
            {
                _recentlyHarvested.Dequeue();
            }

            _recentlyHarvested.Enqueue(requestId);
            _harvestWaits.Remove(requestId, out wait);
        }

        wait?.TrySetResult();
    }

    /// <summary>
    /// How long SHUTDOWN waits for a probed runtime's harvest at its SIGTERM (Lambda stops the
    /// runtime before it sends SHUTDOWN; the library holds the exit 150 ms for that harvest to be
    /// written out) before the agent flushes by itself: a flush started meanwhile would race the
    /// exiting runtime and fail on its closed connection.
    /// </summary>
    internal static readonly TimeSpan ExitHarvestWait = TimeSpan.FromMilliseconds(400);

    private static readonly TimeSpan ExitStreamGrace = TimeSpan.FromMilliseconds(100);

    private async Task WaitForExitHarvestAsync(RuntimeConnection runtime, CancellationToken cancellationToken)
    {
        // The harvest comes on the standing session's stream, which may be read a little after the
        // liveness session's stream has told the exit: a short grace after the exit, then no more.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan? exitedAt = null;
        while (!_exitHarvested && waited.Elapsed < ExitHarvestWait)
        {
            if (runtime.Exited.IsCompleted)
            {
                exitedAt ??= waited.Elapsed;
                if (waited.Elapsed - exitedAt > ExitStreamGrace)
                {
                    return;
                }
            }

            await Task.Delay(10, cancellationToken);
        }
    }

    /// <summary>The request id of the library's harvest at the runtime's exit (Probes README, "Invocation boundaries").</summary>
    internal const string ExitHarvestId = "exit";

    /// <summary>
    /// One invocation's harvest, read from the standing session: its hits span from its INVOKE (init's:
    /// from the previous harvest, the agent's start) to when the function wrote them. An INVOKE the
    /// agent has not taken yet dates them at that end: a span from the previous harvest would also
    /// cover the idle time between the invocations, and the tests that ran in it.
    /// </summary>
    private void OnInvocationHarvested(ProbeFlushReader reader, DateTimeOffset endedAt)
    {
        try
        {
            DateTimeOffset from;
            lock (_intervalLock)
            {
                from = reader.RequestId is not { Length: > 0 } id ? _lastHarvest
                    : _invokedAt.Remove(id, out var invoked) ? invoked
                    : endedAt;
                // The agent, at low priority, may see an INVOKE only after the function has answered it.
                if (from > endedAt)
                {
                    from = endedAt;
                }
                if (endedAt > _lastHarvest)
                {
                    _lastHarvest = endedAt;
                }

                // What a later flush of the agent's finds ran after this end: in the invocation begun since, if any.
                _invokedSinceHarvest = _lastInvoke is { } last && last > endedAt ? last : null;
            }

            var result = ProbeFlush.Map(reader, null, _probed, _application!, from, endedAt);
            _counters.ProbeFlushed();
            if (result.Dropped > 0)
            {
                _counters.ProbeHitsDropped(result.Dropped);
            }

            foreach (var problem in result.Problems)
            {
                LogOnce("probe:" + problem.Split(':')[0], $"invocation harvest: {problem}");
            }

            if (result.Hits.Count > 0)
            {
                InvocationHarvested?.Invoke(result.Hits);
            }

            if (reader.RequestId == ExitHarvestId)
            {
                // The runtime's last words (Probes README): its stream ends next, and loses nothing.
                _exitHarvested = true;
            }
            else if (reader.RequestId is { Length: > 0 } harvestedId)
            {
                Harvested(harvestedId);
            }
        }
        catch (Exception e)
        {
            LogOnce("invocation-harvest", $"an invocation's harvest could not be taken ({Describe(e)}): its hits are lost");
        }
    }

    /// <summary>What collection has cost so far.</summary>
    public CollectionStatistics Statistics => _counters.Snapshot();

    /// <summary>
    /// Creates the private socket folder and listens, then starts collecting (see
    /// <see cref="ListenAsync"/> and <see cref="StartCollecting"/>). On failure (logged) it
    /// returns a collector that collects nothing.
    /// </summary>
    /// <param name="socketDirectory">A folder only the agent uses, e.g. <c>/tmp/.sealights/&lt;random&gt;</c>; created 0700.</param>
    /// <param name="taskRoot">The function's folder (<c>/var/task</c>): only assemblies there are the application.</param>
    /// <param name="log">One line per notable event; never called for each method.</param>
    /// <param name="cancellationToken">Abandons listening (the result then collects nothing).</param>
    public static async Task<MethodHitCollector> StartAsync(string socketDirectory, string taskRoot, Action<string> log, CancellationToken cancellationToken)
    {
        var collector = await ListenAsync(socketDirectory, taskRoot, log, cancellationToken);
        collector.StartCollecting();
        return collector;
    }

    /// <summary>
    /// Creates the private socket folder and listens; returns once the socket accepts
    /// connections, so the caller can register the extension and Lambda can start the runtime.
    /// Nothing else happens yet: this is on the function's init path (Lambda starts the runtime
    /// only after every extension registered), and a runtime that connects before
    /// <see cref="StartCollecting"/> waits in the socket's backlog. On failure (logged) it
    /// returns a collector that collects nothing.
    /// </summary>
    /// <param name="socketDirectory">A folder only the agent uses, e.g. <c>/tmp/.sealights/&lt;random&gt;</c>; created 0700.</param>
    /// <param name="taskRoot">The function's folder (<c>/var/task</c>): only assemblies there are the application.</param>
    /// <param name="log">One line per notable event; never called for each method.</param>
    /// <param name="cancellationToken">Abandons listening (the result then collects nothing).</param>
    public static async Task<MethodHitCollector> ListenAsync(string socketDirectory, string taskRoot, Action<string> log, CancellationToken cancellationToken)
    {
        var intendedPath = Path.Combine(socketDirectory, DiagnosticPortListener.SocketFileName);
        DiagnosticPortListener listener;
        try
        {
            listener = await DiagnosticPortListener.StartAsync(socketDirectory, cancellationToken);
        }
        catch (Exception e)
        {
            log($"coverage off: cannot listen for the function's runtime at {intendedPath}: {Describe(e)}");
            return new MethodHitCollector(intendedPath, null, null, log);
        }

        return new MethodHitCollector(listener.SocketPath, listener, new ApplicationModules(taskRoot, log), log);
    }

    /// <summary>Accepts the function's runtime and scans the application (ReadyToRun or not) before it connects. Once.</summary>
    public void StartCollecting()
    {
        if (_listener is null || Interlocked.Exchange(ref _collectingStarted, 1) != 0)
        {
            return;
        }

        _log($"listening for the function's runtime at {_listener.SocketPath}");
        // The runtime takes ~10 ms to start and connect; the scan takes ~2 ms for a small application.
        _ = _application!.HasReadyToRunCodeAsync();
        _probedScan = Task.Run(() => ProbedAssemblies.Scan(_application.TaskRoot));
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>
    /// Rotates the connected runtime's session (the old one's buffered events and rundown come
    /// out, the new one already records) and returns the hits first seen since the last flush.
    /// With no runtime connected it returns what earlier processes left. Costs one session stop:
    /// measured 4–100 ms (median ~60), the wait for the runtime's EventPipe writer thread, which
    /// wakes every 100 ms. Callers run it off the function's critical path (in the background).
    /// </summary>
    /// <param name="cancellationToken">Abandons the flush.</param>
    /// <param name="runtimeExits">
    /// The runtime is stopped right after this flush (the exec wrapper holds its SIGTERM for it):
    /// its session's stream is then cut with the process, and that loses nothing.
    /// </param>
    /// <param name="harvested">
    /// Called (once) when what the flush covers has left the application: right after a probe harvest
    /// when every application assembly is probed (the rest, a session stop, is not worth waiting
    /// for), else at the end. Called in every case, also on failure.
    /// </param>
    public async Task<IReadOnlyList<MethodHit>> FlushAsync(CancellationToken cancellationToken, bool runtimeExits = false, Action? harvested = null)
    {
        var intervalStart = IntervalStart();
        var told = 0;
        void Harvested()
        {
            if (Interlocked.Exchange(ref told, 1) == 0)
            {
                harvested?.Invoke();
            }
        }

        try
        {
            return await FlushCoreAsync(intervalStart, cancellationToken, runtimeExits, Harvested);
        }
        finally
        {
            Harvested();
        }
    }

    private async Task<IReadOnlyList<MethodHit>> FlushCoreAsync(DateTimeOffset intervalStart, CancellationToken cancellationToken, bool runtimeExits, Action harvested)
    {
        if (!IsCollecting)
        {
            return [];
        }

        if (Interlocked.Exchange(ref _firstConnectionAwaited, 1) == 0 && !_peerConnected.Task.IsCompleted)
        {
            // The first flush (after the first response) can come before the agent has accepted the
            // runtime's connection: starved of CPU while the function started and ran, the accept
            // loop had no turn, and the connection waits in the socket's backlog. Without this wait
            // the flush finds no runtime, and that invocation's probe hits go out with the next
            // one's. Once, bounded: a runtime that never connects costs one flush this wait.
            try
            {
                await _peerConnected.Task.WaitAsync(FirstConnectionWait, cancellationToken);
            }
            catch (Exception)
            {
                // No runtime yet, or cancelled: flush what there is.
            }
        }

        try
        {
            // A runtime that connected late (an agent starved of CPU while the function starts)
            // may still be having its first session and rundown set up: what it ran so far only
            // comes out of that, and this flush may be the last before its SIGTERM.
            await Volatile.Read(ref _connecting).WaitAsync(RotationLimit, cancellationToken);
        }
        catch (Exception)
        {
            // Slow, cancelled or failed: the accept loop reports its own failures; flush what there is.
        }

        try
        {
            await _gate.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return [];
        }

        ProbeFlush? probeFlush = null;
        List<MethodHit> hits;
        var gated = true;
        try
        {
            if (_current is { } runtime && !runtime.Exited.IsCompleted && !_exitHarvested)
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                limit.CancelAfter(RotationLimit);
                probeFlush = await StartProbeFlushAsync(runtime, intervalStart, limit.Token);
                if (!runtime.HasRuntimeEvents)
                {
                    _exitAnnounced = runtimeExits;
                    // Nothing else to do under the gate: the next flush may harvest while this one's session stops.
                    _gate.Release();
                    gated = false;
                    harvested();
                    // Before the runtime's SIGTERM its standing session must give up what it still
                    // buffers (the last invocation's harvest): stopped beside this flush's session.
                    var ending = runtimeExits ? EndBeforeExitAsync(runtime, cancellationToken) : Task.CompletedTask;
                    var probeHits = await FinishProbeFlushAsync(probeFlush, [], cancellationToken);
                    await ending;
                    return probeHits;
                }

                try
                {
                    _counters.Rotated(await runtime.RotateAsync(limit.Token));
                    _exitAnnounced = runtimeExits;
                }
                catch (OperationCanceledException)
                {
                    LogOnce("rotation-timeout", "a session rotation did not finish in time; its hits come with a later flush");
                }
                catch (Exception e) when (IsRuntimeFailure(e))
                {
                    LogOnce("rotation-failed", $"a session rotation failed ({Describe(e)}); the current session goes on");
                }
            }

            hits = DrainAll();
        }
        catch (Exception e)
        {
            Fault("flushing method hits", e);
            return [];
        }
        finally
        {
            if (gated)
            {
                _gate.Release();
            }
        }

        return await FinishProbeFlushAsync(probeFlush, hits, cancellationToken);
    }

    /// <summary>
    /// After a flush of a probed runtime, once its hits are written (so every later harvest is
    /// spooled after them): asks the library to harvest at each invocation's end from now on
    /// (never during init). Once per runtime; returns at once otherwise. Never throws.
    /// </summary>
    public async Task HarvestAtBoundariesFromNowOnAsync()
    {
        if (!IsCollecting || !_probed.Any || _current is not { } runtime || runtime.Exited.IsCompleted || runtime.HasRuntimeEvents)
        {
            return;
        }

        await StartStandingSessionAsync(runtime, _stopping.Token);
    }

    /// <summary>
    /// Starts the probed runtime's standing coverage session, once per runtime, and waits (bounded)
    /// for the library's answer: armed, the agent stops flushing by itself; otherwise it goes on.
    /// </summary>
    private async Task StartStandingSessionAsync(RuntimeConnection runtime, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _standingFor, runtime) == runtime || runtime.HasStandingSession)
        {
            return;
        }

        var harvests = new InvocationHarvests(OnInvocationHarvested, problem => LogOnce("harvests:" + problem.Split(':')[0].Split('(')[0], $"invocation harvests: {problem}"));
        // A socket of its own for this runtime: a datagram of an earlier process cannot mix in.
        var socketPath = Path.Combine(Path.GetDirectoryName(DiagnosticPortPath)!, $"harvests-{Interlocked.Increment(ref _datagramSockets)}.sock");
        var datagrams = HarvestDatagramSocket.Bind(socketPath, harvests, problem => LogOnce("harvest-socket:" + problem.Split('(')[0], problem), _counters);
        Interlocked.Exchange(ref _datagrams, datagrams)?.Dispose();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(RotationLimit);
        try
        {
            await runtime.StartStandingSessionAsync(
                datagrams?.Path,
                stream =>
                {
                    try
                    {
                        ProbeFlush.Read(stream, harvests, _counters);
                    }
                    finally
                    {
                        // The stream has ended: nothing that is waiting for an earlier harvest waits any longer.
                        harvests.HandOver(all: true);
                    }
                },
                limit.Token);
            _harvests = harvests;
            // Written inside the start command: it comes out with the new session's first pass.
            var (armed, detail) = await harvests.Answer.WaitAsync(StandingAnswerWait, limit.Token);
            LogOnce("boundaries", armed
                ? $"the function harvests each invocation's hits at its end (its runtime client's next request to {detail}): no flush, no wait"
                : $"the function cannot harvest at invocation ends ({detail}): the agent flushes after each response");
        }
        catch (Exception e)
        {
            // Slow, refused or failed: nothing is lost, the agent goes on flushing by itself.
            LogOnce("standing-start", $"the coverage session for invocation ends did not start or answer ({Describe(e)}): the agent flushes after each response");
        }
    }

    private async Task EndBeforeExitAsync(RuntimeConnection runtime, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(RotationLimit);
        try
        {
            await runtime.EndAsync(limit.Token);
        }
        catch (Exception e) when (e is OperationCanceledException || IsRuntimeFailure(e))
        {
            LogOnce("standing-stop", $"the coverage session did not stop before the runtime's exit ({Describe(e)}): the last invocation's hits may be lost");
        }
    }

    /// <summary>Where the hits of the next probe flush start: the first INVOKE since the last harvest, or that harvest.</summary>
    private DateTimeOffset IntervalStart()
    {
        lock (_intervalLock)
        {
            return _invokedSinceHarvest ?? _lastHarvest;
        }
    }

    /// <summary>A probe flush of the runtime when it has probed assemblies; null (logged once) when it could not start.</summary>
    private async Task<ProbeFlush?> StartProbeFlushAsync(RuntimeConnection runtime, DateTimeOffset intervalStart, CancellationToken cancellationToken)
    {
        if (!_probed.Any)
        {
            return null;
        }

        try
        {
            var flush = await ProbeFlush.StartAsync(runtime, Interlocked.Increment(ref _flushSequence), intervalStart, _counters, cancellationToken);
            lock (_intervalLock)
            {
                _lastHarvest = flush.HarvestedAt;
                _invokedSinceHarvest = null;
            }

            return flush;
        }
        catch (Exception e) when (e is OperationCanceledException || IsRuntimeFailure(e))
        {
            // The hits stay in the application's arrays: the next flush takes them.
            LogOnce("probe-flush-start", $"a probe flush could not be started ({Describe(e)}); its hits come with a later flush");
            return null;
        }
    }

    /// <summary>Stops a probe flush's session, maps its chunks and adds them to <paramref name="hits"/>; logs each kind of fault once.</summary>
    private async Task<IReadOnlyList<MethodHit>> FinishProbeFlushAsync(ProbeFlush? flush, List<MethodHit> hits, CancellationToken cancellationToken, bool stop = false)
    {
        if (flush is null)
        {
            return hits;
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(RotationLimit);
        try
        {
            var result = await flush.FinishAsync(_probed, _application!, stop || _exitAnnounced, limit.Token);
            if (result.Answered)
            {
                _counters.ProbeFlushed();
            }

            if (result.Dropped > 0)
            {
                _counters.ProbeHitsDropped(result.Dropped);
            }

            foreach (var problem in result.Problems)
            {
                LogOnce("probe:" + problem.Split(':')[0], $"probe flush: {problem}");
            }

            hits.AddRange(result.Hits);
        }
        catch (Exception e) when (e is OperationCanceledException || IsRuntimeFailure(e))
        {
            LogOnce("probe-flush-finish", $"a probe flush's session did not end in time ({Describe(e)}): the hits it had taken are lost");
        }
        catch (Exception e)
        {
            LogOnce("probe-flush-fault", $"a probe flush failed ({Describe(e)}): the hits it had taken are lost");
        }

        return hits;
    }

    /// <summary>
    /// Stops collecting: stops the runtime's session (flushing its events) within
    /// <paramref name="budget"/> and returns every hit not yet returned. Later calls return nothing.
    /// </summary>
    public async Task<IReadOnlyList<MethodHit>> StopAsync(TimeSpan budget)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0 || _listener is null)
        {
            return [];
        }

        using var deadline = new CancellationTokenSource(budget < TimeSpan.Zero ? TimeSpan.Zero : budget);
        try
        {
            _stopping.Cancel();
            var gated = false;
            IReadOnlyList<MethodHit> finalProbeHits = [];
            try
            {
                await _gate.WaitAsync(deadline.Token);
                gated = true;
                if (!_faulted && _current is { } exiting && HarvestsAtBoundaries)
                {
                    await WaitForExitHarvestAsync(exiting, deadline.Token);
                }

                if (!_faulted && _current is { } runtime && !runtime.Exited.IsCompleted && !_exitHarvested)
                {
                    // What the probes hold since the last flush, then the runtime events' last session.
                    var probeFlush = await StartProbeFlushAsync(runtime, IntervalStart(), deadline.Token);
                    // The standing session's last harvests come out with its stop.
                    await Task.WhenAll(runtime.StopAsync(deadline.Token), runtime.StopStandingAsync(deadline.Token));
                    finalProbeHits = await FinishProbeFlushAsync(probeFlush, [], deadline.Token, stop: true);
                }
            }
            catch (OperationCanceledException)
            {
                _log("the final session did not stop within the shutdown budget; its last hits are lost");
            }
            catch (Exception e) when (IsRuntimeFailure(e))
            {
                _log($"the final session could not be stopped ({Describe(e)})");
            }
            finally
            {
                if (gated)
                {
                    _gate.Release();
                }
            }

            return _faulted ? [] : [.. DrainAll(), .. finalProbeHits];
        }
        catch (Exception e)
        {
            Fault("stopping", e);
            return [];
        }
    }

    /// <summary>Closes the session, the connection and the socket; gives up after about a second.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Interlocked.Exchange(ref _stopped, 1);
        _stopping.Cancel();
        try
        {
            await TearDownAsync().WaitAsync(DisposeLimit);
        }
        catch (Exception)
        {
            // Stuck past the limit: the agent is ending anyway; the runtime notices the closed socket.
        }
    }

    private static bool IsRuntimeFailure(Exception e) =>
        e is DiagnosticsClientException or IOException
            or TimeoutException or ObjectDisposedException or UnauthorizedAccessException;

    private static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message}";

    private async Task AcceptLoopAsync()
    {
        var stopping = _stopping.Token;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var connector = await _listener!.AcceptAsync(stopping);
                if (connector is null)
                {
                    return;
                }

                var connecting = ConnectAsync(connector, stopping);
                Volatile.Write(ref _connecting, connecting);
                // After _connecting: whoever waited for the first connection then waits for its setup.
                _peerConnected.TrySetResult();
                var runtime = await connecting;
                if (runtime is null)
                {
                    if (stopping.IsCancellationRequested)
                    {
                        await connector.DisposeAsync();
                        return;
                    }

                    await _listener.RelistenAsync(connector, stopping);
                    continue;
                }

                await Task.WhenAny(runtime.Exited, Task.Delay(Timeout.Infinite, stopping));
                if (stopping.IsCancellationRequested)
                {
                    // StopAsync/DisposeAsync own the current runtime from here.
                    return;
                }

                await RetireAsync(runtime, stopping);
                await Task.Delay(ExitGrace, stopping);
                await _listener.RelistenAsync(runtime.Connector, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Fault("waiting for the function's runtime", e);
        }
    }

    private async Task<RuntimeConnection?> ConnectAsync(DiagnosticsClientConnector connector, CancellationToken stopping)
    {
        var hits = new ProcessMethodHits(_application!);
        var probed = await ProbedAssembliesAsync(stopping);
        _probed = probed;
        _application!.Probed = probed;
        var runtimeEvents = !probed.All;
        _harvests = null;
        var readyToRun = runtimeEvents && await ReadyToRunEventsNeededAsync(stopping);
        var processId = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(FirstSessionTimeout);
        RuntimeConnection runtime;
        try
        {
            runtime = await RuntimeConnection.StartAsync(
                connector,
                readyToRun,
                runtimeEvents,
                stream => RuntimeEventReader.Read(stream, hits, _counters, pid => processId.TrySetResult(pid)),
                _counters,
                StreamCut,
                timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException || IsRuntimeFailure(e))
        {
            if (!stopping.IsCancellationRequested)
            {
                _log($"a process connected to the diagnostic port but no trace could be started ({Describe(e)}); waiting for the next");
            }

            return null;
        }

        // Probes count from the process's start: nothing ran before tracing that they would miss.
        var recovered = runtimeEvents && await RecoverEarlierCallsIfNeededAsync(runtime, processId.Task, timeout.Token);
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            if (stopping.IsCancellationRequested)
            {
                runtime.Dispose();
                return null;
            }

            lock (_processesLock)
            {
                _processes.Add(hits);
                _current = runtime;
            }

            _exitAnnounced = false;
            _exitHarvested = false;
        }
        finally
        {
            _gate.Release();
        }

        _counters.RuntimeConnected();
        LogOnce("modes", probed.Describe());
        if (!runtimeEvents)
        {
            _log("the function's runtime connected; collecting method hits from its probes (every application assembly is instrumented: no runtime events)");
            return runtime;
        }

        _log(
            $"the function's runtime connected; collecting method hits ({(readyToRun ? "jitted and ReadyToRun" : "jitted: the application has no ReadyToRun code")}; "
            + $"{(recovered ? "the application was loaded before tracing began: listed what ran" : "traced before the application was loaded")})");
        return runtime;
    }

    /// <summary>
    /// Rundown (what ran before the live session) costs the runtime ~20 ms of CPU and ~3,000
    /// events of the framework's methods, during the first invocation. It is only asked for when
    /// the application may have run before the session: when the process had already mapped a
    /// file from the task root, or that cannot be told. Done before the runtime counts as
    /// connected, so the first flush has it.
    /// </summary>
    private async Task<bool> RecoverEarlierCallsIfNeededAsync(RuntimeConnection runtime, Task<int> processId, CancellationToken cancellationToken)
    {
        try
        {
            if (!await MayHaveRunBeforeTracingAsync(processId, cancellationToken))
            {
                return false;
            }

            await runtime.RecoverEarlierCallsAsync(cancellationToken);
        }
        catch (Exception e) when (e is OperationCanceledException || IsRuntimeFailure(e))
        {
            LogOnce("rundown-failed", $"what the runtime ran before its first session could not be listed ({Describe(e)}); those methods are missing");
        }

        return true;
    }

    private async Task<bool> MayHaveRunBeforeTracingAsync(Task<int> processId, CancellationToken cancellationToken)
    {
        try
        {
            // The stream's header names the process; it comes right after the session starts.
            return _application!.MayHaveRunIn(await processId.WaitAsync(ProcessIdLimit, cancellationToken));
        }
        catch (TimeoutException)
        {
            return true;
        }
    }

    private async Task<ProbedAssemblies> ProbedAssembliesAsync(CancellationToken stopping)
    {
        try
        {
            return await _probedScan!.WaitAsync(ApplicationScanLimit, stopping);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Slow or failed: the first-execution path for everything (runtime events), never nothing.
            LogOnce("probed-scan", $"cannot tell which application assemblies carry probes ({Describe(e)}); using runtime events for all of them");
            return ProbedAssemblies.None;
        }
    }

    private async Task<bool> ReadyToRunEventsNeededAsync(CancellationToken stopping)
    {
        try
        {
            return await _application!.HasReadyToRunCodeAsync().WaitAsync(ApplicationScanLimit, stopping);
        }
        catch (TimeoutException)
        {
            LogOnce("scan-slow", $"the application scan took over {ApplicationScanLimit.TotalSeconds:0} s; asking the runtime for ReadyToRun events too");
            return true;
        }
    }

    private async Task RetireAsync(RuntimeConnection runtime, CancellationToken stopping)
    {
        await _gate.WaitAsync(stopping);
        try
        {
            lock (_processesLock)
            {
                if (_current == runtime)
                {
                    _current = null;
                }
            }

            // Every stream has ended (the process is gone); this closes what is left.
            runtime.Dispose();
        }
        finally
        {
            _gate.Release();
        }

        _log("the function's runtime exited; waiting for the next one");
    }

    private async Task TearDownAsync()
    {
        // The loop ends promptly once stopping is cancelled (every wait in it observes it).
        await _acceptLoop;
        RuntimeConnection? runtime;
        lock (_processesLock)
        {
            runtime = _current;
            _current = null;
        }

        if (runtime is not null)
        {
            runtime.Dispose();
            await runtime.Connector.DisposeAsync();
        }

        Interlocked.Exchange(ref _datagrams, null)?.Dispose();
        if (_listener is not null)
        {
            await _listener.DisposeAsync();
        }
    }

    private List<MethodHit> DrainAll()
    {
        List<ProcessMethodHits> processes;
        ProcessMethodHits? live;
        lock (_processesLock)
        {
            processes = [.. _processes];
            live = _current is null ? null : _processes.LastOrDefault();
        }

        var hits = new List<MethodHit>();
        foreach (var process in processes)
        {
            hits.AddRange(process.Drain());
        }

        lock (_processesLock)
        {
            // An exited process has nothing more to say once drained.
            _processes.RemoveAll(p => p != live && processes.Contains(p));
        }

        hits.Sort((a, b) => a.FirstSeen != b.FirstSeen
            ? a.FirstSeen.CompareTo(b.FirstSeen)
            : string.CompareOrdinal(a.Method.Id, b.Method.Id));
        return hits;
    }

    /// <summary>
    /// A session's stream was cut: the process went away mid-session. After the flush made for
    /// its announced exit, that is how every runtime ends and loses nothing (it ran no function
    /// code since); otherwise what it still buffered, if anything, is gone.
    /// </summary>
    private void StreamCut(Exception e)
    {
        if (!_exitAnnounced && !_exitHarvested)
        {
            LogOnce("stream-error", $"the function's runtime went away mid-session ({Describe(e)}) with no flush before: hits it had not yet written out, if any, are lost");
        }
    }

    private void LogOnce(string key, string message)
    {
        lock (_loggedOnce)
        {
            if (!_loggedOnce.Add(key))
            {
                return;
            }
        }

        _log(message);
    }

    private void Fault(string what, Exception e)
    {
        if (_faulted)
        {
            return;
        }

        _faulted = true;
        _log($"coverage off: internal error while {what}: {Describe(e)}");
        _stopping.Cancel();
    }
}
