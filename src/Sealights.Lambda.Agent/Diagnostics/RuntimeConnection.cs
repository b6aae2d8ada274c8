using System.Diagnostics;
using Microsoft.Diagnostics.NETCore.Client;

namespace Sealights.Lambda.Agent.Diagnostics;

/// <summary>
/// One connected runtime process and its current EventPipe session. Rotation starts the next
/// session before stopping the current one, so every event lands in at least one of them; the
/// stop flushes the runtime's buffers (an idle thread's events otherwise wait there until the
/// session ends). <see cref="Exited"/> completes when the process goes away.
/// </summary>
internal sealed class RuntimeConnection : IDisposable
{
    private readonly DiagnosticsClient _client;
    private readonly Action<Stream> _read;
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<TraceSession> _sessions = [];
    private readonly object _lock = new();
    private readonly TraceCounters _counters;
    private readonly Action<Exception> _onReadError;
    private readonly bool _readyToRun;
    private readonly bool _runtimeEvents;
    private TraceSession? _active;
    private TraceSession? _standing;

    private RuntimeConnection(DiagnosticsClientConnector connector, bool readyToRun, bool runtimeEvents, Action<Stream> read, TraceCounters counters, Action<Exception> onReadError)
    {
        _readyToRun = readyToRun;
        _runtimeEvents = runtimeEvents;
        _counters = counters;
        _onReadError = onReadError;
        Connector = connector;
        _client = connector.Instance;
        _read = read;
    }

    /// <summary>Whether this runtime's sessions carry the runtime provider (false: all its application assemblies are probed).</summary>
    public bool HasRuntimeEvents => _runtimeEvents;

    /// <summary>The connector this runtime came through (the listener takes it back when done).</summary>
    public DiagnosticsClientConnector Connector { get; }

    /// <summary>Completes when a session's stream ended without the agent stopping it: the process exited or was killed.</summary>
    public Task Exited => _exited.Task;

    /// <summary>
    /// Starts the runtime's first session, live from then on. What ran before it is recovered
    /// separately, and only when it may matter (<see cref="RecoverEarlierCallsAsync"/>).
    /// </summary>
    /// <param name="connector">The accepted runtime.</param>
    /// <param name="readyToRun">Whether its sessions ask for first calls into ReadyToRun code (the application has some).</param>
    /// <param name="runtimeEvents">
    /// False when every application assembly carries probes: the runtime provider is never
    /// enabled and the one session is an idle one whose end tells the process's exit; the standing
    /// coverage session (<see cref="StartStandingSessionAsync"/>) comes later. Neither is rotated.
    /// </param>
    /// <param name="read">Reads one session's stream to its end (runs on that session's thread).</param>
    /// <param name="counters">Where sessions and bytes are counted.</param>
    /// <param name="onReadError">Told when reading a session's stream failed.</param>
    /// <param name="cancellationToken">Bounds the start; a fake or dying peer never answers.</param>
    public static async Task<RuntimeConnection> StartAsync(
        DiagnosticsClientConnector connector,
        bool readyToRun,
        bool runtimeEvents,
        Action<Stream> read,
        TraceCounters counters,
        Action<Exception> onReadError,
        CancellationToken cancellationToken)
    {
        var runtime = new RuntimeConnection(connector, readyToRun, runtimeEvents, read, counters, onReadError);
        await runtime.StartSessionAsync(rundown: false, cancellationToken);
        return runtime;
    }

    /// <summary>
    /// Starts a new session, then stops the previous one and waits until its stream is read to
    /// the end. Returns how long the stop took (the runtime's writer sleeps ~100 ms per pass).
    /// </summary>
    public async Task<TimeSpan> RotateAsync(CancellationToken cancellationToken)
    {
        var previous = _active;
        using (var untilExit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            // A runtime that exits mid-rotation never answers the start: give up once its stream ends.
            var start = StartSessionAsync(rundown: false, untilExit.Token);
            if (await Task.WhenAny(start, Exited) != start)
            {
                untilExit.Cancel();
            }

            try
            {
                await start;
            }
            catch (Exception) when (Exited.IsCompleted && !cancellationToken.IsCancellationRequested)
            {
                // Exited: the previous session's stream has ended and holds everything there was.
            }
        }

        var stopwatch = Stopwatch.StartNew();
        if (previous is not null)
        {
            await previous.StopAsync(cancellationToken);
            Retire(previous);
        }

        return stopwatch.Elapsed;
    }

    /// <summary>Stops the current session (no successor) and waits for its stream's end.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var active = _active;
        if (active is not null)
        {
            await active.StopAsync(cancellationToken);
            Retire(active);
        }
    }

    /// <summary>Whether the standing coverage session has been started (it stays until the process ends).</summary>
    public bool HasStandingSession => Volatile.Read(ref _standing) is not null;

    /// <summary>
    /// Starts the standing coverage session of a probed runtime (<c>invocations=runtime-api</c>):
    /// the library arms its invocation boundary inside the start command and harvests every
    /// invocation at its end into it from then on.
    /// </summary>
    /// <param name="harvestsSocket">The agent's datagram socket for the harvests, if it has one.</param>
    public async Task StartStandingSessionAsync(string? harvestsSocket, Action<Stream> read, CancellationToken cancellationToken)
    {
        var session = await TraceSession.StartAsync(_client, RuntimeEventProviders.CoverageSessions(harvestsSocket), read, _counters, _onReadError, cancellationToken);
        if (Interlocked.CompareExchange(ref _standing, session, null) is not null)
        {
            session.Dispose();
        }
    }

    /// <summary>
    /// The runtime is about to be stopped (its SIGTERM is held for this): stops the standing
    /// coverage session and the current one, so what they still buffer comes out now (the last
    /// invocation's harvest), and counts the runtime as gone: no invocation follows.
    /// </summary>
    public async Task EndAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(
                Volatile.Read(ref _standing) is { } standing ? standing.StopAsync(cancellationToken) : Task.CompletedTask,
                StopAsync(cancellationToken));
        }
        finally
        {
            _exited.TrySetResult();
        }
    }

    /// <summary>Stops the standing coverage session, if any, and waits for its stream's end (SHUTDOWN).</summary>
    public Task StopStandingAsync(CancellationToken cancellationToken) =>
        Volatile.Read(ref _standing) is { } standing ? standing.StopAsync(cancellationToken) : Task.CompletedTask;

    public void Dispose()
    {
        Interlocked.Exchange(ref _standing, null)?.Dispose();
        List<TraceSession> sessions;
        lock (_lock)
        {
            sessions = [.. _sessions];
            _sessions.Clear();
            _active = null;
        }

        foreach (var session in sessions)
        {
            session.Dispose();
        }
    }

    /// <summary>
    /// Lists what the process ran before its first session: a session started and stopped at
    /// once, for its rundown (every jitted and entered ReadyToRun method). With the live session
    /// already running, nothing falls between (what runs meanwhile arrives twice, and counts once).
    /// </summary>
    public async Task RecoverEarlierCallsAsync(CancellationToken cancellationToken)
    {
        var session = await TraceSession.StartAsync(_client, rundown: true, _readyToRun, _read, _counters, _onReadError, cancellationToken);
        try
        {
            await session.StopAsync(cancellationToken);
        }
        finally
        {
            session.Dispose();
        }
    }

    /// <summary>
    /// Starts a probe flush: a session with only the coverage provider and <c>flush=<paramref name="sequence"/></c>.
    /// When this returns the library has harvested its hits into the session's buffers; they come
    /// out when the session is stopped (or with the runtime's next 100 ms pass).
    /// </summary>
    public Task<TraceSession> StartProbeFlushAsync(int sequence, Action<Stream> read, Action<Exception> onReadError, CancellationToken cancellationToken) =>
        TraceSession.StartAsync(_client, RuntimeEventProviders.ProbeFlushSessions(sequence), read, _counters, onReadError, cancellationToken);

    private async Task StartSessionAsync(bool rundown, CancellationToken cancellationToken)
    {
        var session = _runtimeEvents
            ? await TraceSession.StartAsync(_client, rundown, _readyToRun, _read, _counters, _onReadError, cancellationToken)
            : await TraceSession.StartAsync(_client, RuntimeEventProviders.LivenessSessions(), static stream => stream.CopyTo(Stream.Null), _counters, _onReadError, cancellationToken);
        lock (_lock)
        {
            _sessions.Add(session);
            _active = session;
        }

        _ = session.Completion.ContinueWith(
            _ =>
            {
                if (!session.StopRequested)
                {
                    _exited.TrySetResult();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void Retire(TraceSession session)
    {
        lock (_lock)
        {
            _sessions.Remove(session);
        }

        session.Dispose();
    }
}
