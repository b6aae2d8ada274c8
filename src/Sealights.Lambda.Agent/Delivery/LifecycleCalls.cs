using Sealights.Coverage.Tokens;
using System.Net;
using Sealights.Lambda.Agent.Configuration;

namespace Sealights.Lambda.Agent.Delivery;

/// <summary>
/// How the agent announces itself to Sealights, as slnodejs 6.1.1133 does, entirely in the
/// background and never before the function's first INVOKE (by then the runtime has started and
/// init is over): the build session's validation, the remote configuration, the first execution
/// query, then agent events (1001 started, 1006/1007 execution found or not, 1010 first
/// footprints, 1003 ping, 4006 footprints not submitted, 1002 shutdown). Footprints wait until
/// the remote configuration has answered (or failed), so <c>enabled: false</c> silences them all.
/// No method throws; a failing or slow backend costs requests in the background, nothing more.
/// See Delivery/README.md, "Lifecycle calls".
/// </summary>
public sealed class LifecycleCalls : IDisposable
{
    /// <summary>slnodejs pings every 120 s; this agent at the first INVOKE at least that long after the last ping (a frozen environment cannot ping).</summary>
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(120);

    private readonly DeliveryOptions _options;
    private readonly SealightsToken _token;
    private readonly AgentLog _log;
    private readonly ActiveExecutionCache _executions;
    private readonly Func<DeliveryStatistics> _statistics;
    private readonly Action _footprintsMayGo;
    private readonly Func<LambdaFacts> _facts;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _startupCancel;
    private readonly OnceLog _once = new();
    private readonly object _gate = new();
    private readonly Queue<(AgentEventType Type, DateTimeOffset At)> _events = new();
    private readonly TaskCompletionSource _concluded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _pump = Task.CompletedTask;
    private bool _pumping;
    private int _started;
    private bool _announced;
    private bool _executionSaid;
    private bool _collected;
    private bool _firstFootprintsSaid;
    private bool _notSubmittedSaid;
    private bool _shuttingDown;
    private DateTimeOffset _lastPing;
    private RemoteConfiguration _configuration = RemoteConfiguration.Defaults;

    internal LifecycleCalls(DeliveryOptions options, SealightsToken token, AgentLog log, ActiveExecutionCache executions,
        Func<DeliveryStatistics> statistics, Action footprintsMayGo, Func<LambdaFacts> facts, TimeProvider time)
    {
        _options = options;
        _token = token;
        _log = log;
        _executions = executions;
        _statistics = statistics;
        _footprintsMayGo = footprintsMayGo;
        _facts = facts;
        _time = time;
        // Its own connection: an event never queues behind a footprints request, nor the reverse.
        _http = new HttpClient(FootprintsSender.CreateHandler(options), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _startupCancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
    }

    /// <summary>Completes when the start calls have decided (answered, failed or were cut by SHUTDOWN).</summary>
    public Task Concluded => _concluded.Task;

    /// <summary>The remote configuration in force (defaults until it answered).</summary>
    public RemoteConfiguration Configuration => Volatile.Read(ref _configuration);

    /// <summary>The start calls have decided and footprints may be sent.</summary>
    public bool FootprintsMayGo => _concluded.Task.IsCompleted && !FootprintsOff;

    /// <summary>The remote configuration said <c>enabled: false</c> or <c>sendFootprints: false</c>.</summary>
    public bool FootprintsOff => Configuration is { Enabled: false } or { SendFootprints: false };

    private bool EventsOff => Configuration is { Enabled: false } or { SendEvents: false };

    /// <summary>The first INVOKE: starts the start calls in the background (later calls do nothing).</summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _ = Task.Run(StartupAsync);
        }
    }

    /// <summary>Every INVOKE (a thawed moment): a due ping, a late execution event, a submission failure.</summary>
    public void Invoked()
    {
        lock (_gate)
        {
            if (!_announced || _shuttingDown)
            {
                return;
            }
            _options.Metadata.SawExecution(_executions.Current?.ExecutionId);
            SayExecutionOnce();
            SayFirstFootprintsOnce();
            SayNotSubmittedOnce();
            var now = _time.GetUtcNow();
            if (now - _lastPing >= PingInterval)
            {
                _lastPing = now;
                Enqueue(AgentEventType.Ping, now);
            }
        }
    }

    /// <summary>Footprints were collected (spooled) for the first time or again: 1010 once.</summary>
    public void FootprintsCollected()
    {
        lock (_gate)
        {
            _collected = true;
            SayFirstFootprintsOnce();
        }
    }

    /// <summary>
    /// SHUTDOWN: the start calls still running are cut, 1002 goes out (after 4006 if footprints
    /// could not be submitted), and events still queued get until <paramref name="deadline"/>
    /// minus the drain margin; a request in flight then is cancelled. Never throws.
    /// </summary>
    public async Task ShutdownAsync(DateTimeOffset deadline)
    {
        var hardStop = deadline - _options.DrainMargin;
        var left = hardStop - _time.GetUtcNow();
        try
        {
            await _startupCancel.CancelAsync().ConfigureAwait(false);
            Task pump;
            lock (_gate)
            {
                if (_announced && !_shuttingDown)
                {
                    SayNotSubmittedOnce();
                    Enqueue(AgentEventType.Shutdown, _time.GetUtcNow());
                }
                _shuttingDown = true;
                pump = _pump;
            }
            if (left <= TimeSpan.Zero)
            {
                await _stopping.CancelAsync().ConfigureAwait(false);
                return;
            }
            _stopping.CancelAfter(left);
            await pump.WaitAsync(left).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            _log.Debug("agent events still queued at the shutdown deadline were not sent");
        }
        catch (Exception e)
        {
            Unexpected(e);
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _http.Dispose();
        _startupCancel.Dispose();
    }

    private async Task StartupAsync()
    {
        var cancel = _startupCancel.Token;
        try
        {
            await ValidateBuildSessionAsync(cancel).ConfigureAwait(false);
            if (!cancel.IsCancellationRequested)
            {
                await ReadRemoteConfigurationAsync(cancel).ConfigureAwait(false);
            }
            ExecutionLookup? first = null;
            if (!cancel.IsCancellationRequested && !FootprintsOff && !_options.UsesCollector)
            {
                // As slnodejs at start (shouldCheckForActiveExecutionOnStartUp): the answer is cached
                // for the footprints sender, which makes no second query for it.
                first = await _executions.GetAsync(_time.GetUtcNow() + _options.RequestTimeout, cancel).ConfigureAwait(false);
            }
            _concluded.TrySetResult();
            if (FootprintsMayGo)
            {
                _footprintsMayGo();
            }
            lock (_gate)
            {
                if (cancel.IsCancellationRequested || _shuttingDown || EventsOff)
                {
                    return;
                }
                var now = _time.GetUtcNow();
                _announced = true;
                _lastPing = now;
                Enqueue(AgentEventType.Started, now);
                if (first is { Failed: false } answered)
                {
                    _options.Metadata.SawExecution(answered.Execution?.ExecutionId);
                }
                SayExecutionOnce();
                SayFirstFootprintsOnce();
            }
        }
        catch (Exception e)
        {
            Unexpected(e);
        }
        finally
        {
            _concluded.TrySetResult();
        }
    }

    private async Task ValidateBuildSessionAsync(CancellationToken cancel)
    {
        using var request = SealightsRoutes.BuildSessionRequest(_options, _token);
        var (status, body, failure) = await SendAsync(request, cancel).ConfigureAwait(false);
        if (status is >= 200 and < 300 && BuildSessionInfo.Parse(body) is { } session)
        {
            // Every later request's headers, and collector footprints' meta.agentConfig, name them.
            _options.Metadata.Learn(session.AppName, session.BranchName, session.BuildName);
            _log.Info(session.AppName is null && session.BranchName is null && session.BuildName is null
                // `sl-images collect` knows build session ids, not their names.
                ? $"build session {_options.BuildSessionId}: known to the server, which names no app, branch or build (as a local collector)"
                : $"build session {_options.BuildSessionId}: app '{session.AppName ?? "?"}', branch '{session.BranchName ?? "?"}', build '{session.BuildName ?? "?"}'");
        }
        else if (status == (int)HttpStatusCode.NotFound)
        {
            // slnodejs refuses such a bsid and stops; this agent keeps collecting and sending (the
            // service is the judge, and coverage is never dropped on the agent's guess), says so once.
            _log.Warn($"Sealights does not know build session {_options.BuildSessionId} ({request.RequestUri} answered 404): footprints are sent anyway, but will count for nothing unless SL_BUILD_SESSION_ID names a build session created for this build");
        }
        else if (!cancel.IsCancellationRequested)
        {
            // No answer at all (connection, TLS, timeout): the footprints sender says that in its one line.
            Say(status == 0 ? _log.Debug : _log.Warn, $"the build session {_options.BuildSessionId} could not be validated ({failure ?? (status is >= 200 and < 300 ? "the answer is not a JSON object" : $"answered {status}")}): requests go without app, branch and build names");
        }
    }

    private async Task ReadRemoteConfigurationAsync(CancellationToken cancel)
    {
        using var request = SealightsRoutes.RemoteConfigurationRequest(_options, _token);
        var (status, body, failure) = await SendAsync(request, cancel).ConfigureAwait(false);
        if (status is >= 200 and < 300 && RemoteConfiguration.Parse(body) is { } configuration)
        {
            Volatile.Write(ref _configuration, configuration);
            _options.Metadata.ExecutionQueryInterval = configuration.ExecutionQueryInterval;
            if (!configuration.Enabled)
            {
                _log.Warn("Sealights' remote configuration turns this agent off (enabled: false): no footprints, events or other requests from this environment");
            }
            else if (configuration.Describe() is { Length: > 0 } applied)
            {
                _log.Info($"Sealights' remote configuration applied: {applied}");
            }
        }
        else if (!cancel.IsCancellationRequested)
        {
            Say(status == 0 ? _log.Debug : _log.Info, $"Sealights' remote configuration could not be read ({failure ?? $"answered {status}"}): the agent's defaults apply");
        }
    }

    // Callers hold _gate.
    private void SayExecutionOnce()
    {
        if (_executionSaid || _options.UsesCollector || _executions.AnsweredAt is null)
        {
            return;
        }
        _executionSaid = true;
        Enqueue(_executions.Current is null ? AgentEventType.NoExecution : AgentEventType.ExecutionFound, _time.GetUtcNow());
    }

    // As slnodejs: footprints count as collected for an execution (none in a lab without one; a collector needs none).
    private void SayFirstFootprintsOnce()
    {
        if (_announced && _collected && !_firstFootprintsSaid && (_options.UsesCollector || _executions.Current is not null))
        {
            _firstFootprintsSaid = true;
            Enqueue(AgentEventType.FirstFootprints, _time.GetUtcNow());
        }
    }

    private void SayNotSubmittedOnce()
    {
        if (_notSubmittedSaid)
        {
            return;
        }
        var statistics = _statistics();
        if (statistics.FailedAttempts > 0 || statistics.DroppedRejected > 0)
        {
            _notSubmittedSaid = true;
            Enqueue(AgentEventType.FootprintsNotSubmitted, _time.GetUtcNow());
        }
    }

    private void Enqueue(AgentEventType type, DateTimeOffset at)
    {
        if (EventsOff)
        {
            return;
        }
        _events.Enqueue((type, at));
        if (!_pumping)
        {
            _pumping = true;
            _pump = Task.Run(PumpAsync);
        }
    }

    /// <summary>One event per request, in order; a failed one is not retried (events are status, not coverage).</summary>
    private async Task PumpAsync()
    {
        while (true)
        {
            (AgentEventType Type, DateTimeOffset At) next;
            lock (_gate)
            {
                if (!_events.TryDequeue(out next) || _stopping.IsCancellationRequested || EventsOff)
                {
                    _events.Clear();
                    _pumping = false;
                    return;
                }
            }
            try
            {
                var facts = next.Type == AgentEventType.Started ? _facts() : null;
                var json = AgentEvents.Body(next.Type, next.At, _options, _options.Metadata, facts);
                using var request = SealightsRoutes.AgentEventRequest(_options, _token, next.Type, json);
                var (status, _, failure) = await SendAsync(request, _stopping.Token).ConfigureAwait(false);
                if (status is not (>= 200 and < 300) && !_stopping.IsCancellationRequested && _once.First("event-failed"))
                {
                    Say(status == 0 ? _log.Debug : _log.Warn, $"agent event {(int)next.Type} not delivered ({failure ?? $"answered {status}"}); events are not retried, coverage is not affected; further failures are not logged");
                }
            }
            catch (Exception e)
            {
                Unexpected(e);
            }
        }
    }

    /// <summary>One request within the request timeout: the status (0 when none) and body, or why it failed.</summary>
    private async Task<(int Status, byte[] Body, string? Failure)> SendAsync(HttpRequestMessage request, CancellationToken cancel)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
            return ((int)response.StatusCode, body, null);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return (0, [], $"no answer within {_options.RequestTimeout.TotalMilliseconds:0} ms");
        }
        catch (OperationCanceledException)
        {
            return (0, [], "cut by SHUTDOWN");
        }
        catch (HttpRequestException e)
        {
            return (0, [], FootprintsSender.Describe(e));
        }
    }

    private static void Say(Action<string> level, string message) => level(message);

    private void Unexpected(Exception e)
    {
        // After SHUTDOWN's deadline the client is gone under a request still running: nothing to say.
        if (_stopping.IsCancellationRequested && e is ObjectDisposedException or OperationCanceledException)
        {
            return;
        }
        if (_once.First("unexpected-" + e.GetType().Name))
        {
            _log.Warn($"the agent's lifecycle calls hit an unexpected {e.GetType().Name}: {e.Message}; coverage is not affected");
        }
    }
}
