using Sealights.Coverage.Tokens;
using System.Net;
using System.Text.Json;
using Sealights.Lambda.Agent.Configuration;

namespace Sealights.Lambda.Agent.Delivery;

/// <summary>What the sender knows about the lab's active execution when it wants to send.</summary>
public readonly record struct ExecutionLookup(ActiveExecution? Execution, string? Failure)
{
    /// <summary>The query failed in a way worth retrying (backend down, 5xx, timeout): back off.</summary>
    public bool Failed => Failure is not null;

    public static ExecutionLookup Active(ActiveExecution execution) => new(execution, null);

    public static readonly ExecutionLookup None = new(null, null);

    public static ExecutionLookup Fail(string reason) => new(null, reason);
}

/// <summary>
/// The lab's active test execution, queried as Sealights agents do
/// (<see cref="SealightsRoutes.ActiveExecutionRequest"/>) — only from the sender, in the
/// background, never on an invocation's path — and at most once per
/// <see cref="DeliveryOptions.ExecutionRefreshInterval"/> (10 s). An answer, including "none",
/// is kept for that interval; a failed query keeps the last answer and reports the failure so
/// the sender backs off. With SL_EXECUTION_ID nothing is queried; with a collector neither.
/// <para>
/// It also decides which execution a flush belongs to (<see cref="Stamp"/>, <see cref="Resolve"/>):
/// the answer the agent has at the flush when it is at most the refresh interval old, else the
/// first answer after the flush (every answer increases <see cref="Generation"/>). See
/// Delivery/README.md, "Attribution".
/// </para>
/// </summary>
public sealed class ActiveExecutionCache
{
    private readonly DeliveryOptions _options;
    private readonly SealightsToken _token;
    private readonly HttpClient _http;
    private readonly AgentLog _log;
    private readonly DeliveryCounters _counters;
    private readonly TimeProvider _time;
    private readonly OnceLog _once = new();
    private readonly object _gate = new();
    private ActiveExecution? _current;
    private DateTimeOffset? _answeredAt;
    private long _generation;
    private bool _seenAny;
    // The flush that took the one last flush of the execution pending deletion (null: not taken yet).
    private long? _lastFlushOfPendingDelete;

    internal ActiveExecutionCache(DeliveryOptions options, SealightsToken token, HttpClient http, AgentLog log, DeliveryCounters counters, TimeProvider time)
    {
        _options = options;
        _token = token;
        _http = http;
        _log = log;
        _counters = counters;
        _time = time;
        if (options.FixedExecutionId is { } fixedId)
        {
            _current = new ActiveExecution(fixedId, options.BuildSessionId, options.TestStage, "fixed");
            _seenAny = true;
        }
    }

    /// <summary>The last known active execution (null: none, or not asked yet).</summary>
    public ActiveExecution? Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>When the backend last answered (null: never).</summary>
    public DateTimeOffset? AnsweredAt
    {
        get
        {
            lock (_gate)
            {
                return _answeredAt;
            }
        }
    }

    /// <summary>How many answers the backend gave so far (a stamp made at generation g is decided by answer g + 1).</summary>
    public long Generation
    {
        get
        {
            lock (_gate)
            {
                return _generation;
            }
        }
    }

    /// <summary>
    /// The attribution of a flush made now: decided from the last answer when it is fresh (at most
    /// the refresh interval old), else pending until the next answer. Never waits, never queries.
    /// </summary>
    /// <param name="flushId">The flush (its batches share the stamp, and a pending deletion's last flush).</param>
    public ExecutionStamp Stamp(long flushId)
    {
        if (_options.UsesCollector)
        {
            return new ExecutionStamp(StampKind.Collector, FlushId: flushId);
        }
        lock (_gate)
        {
            if (_options.FixedExecutionId is not null)
            {
                return new ExecutionStamp(StampKind.Execution, _current, flushId);
            }
            if (_answeredAt is not { } answered || _time.GetUtcNow() - answered >= _options.ExecutionRefreshInterval)
            {
                return new ExecutionStamp(StampKind.Pending, _current, flushId, _generation);
            }
            return DecideLocked(flushId);
        }
    }

    /// <summary>
    /// A waiting stamp decided by what is known now: a pending one once an answer newer than its
    /// generation came, one made before the first execution once an execution is known (it then
    /// goes to that execution as init footprints). Decided stamps are returned as they are.
    /// </summary>
    public ExecutionStamp Resolve(ExecutionStamp stamp)
    {
        lock (_gate)
        {
            if (stamp.Kind == StampKind.Pending && _generation > stamp.AfterGeneration)
            {
                stamp = DecideLocked(stamp.FlushId);
            }
            if (stamp.Kind == StampKind.BeforeFirstExecution && _current is { } first)
            {
                return stamp with { Kind = StampKind.Execution, Execution = first, WaitedForFirst = true };
            }
            return stamp;
        }
    }

    private ExecutionStamp DecideLocked(long flushId)
    {
        if (_current is not { } execution)
        {
            return new ExecutionStamp(_seenAny ? StampKind.NoExecution : StampKind.BeforeFirstExecution, FlushId: flushId);
        }
        if (execution.IsPendingDelete)
        {
            // One last flush of what was collected for it, then nothing until an execution is active again.
            _lastFlushOfPendingDelete ??= flushId;
            if (_lastFlushOfPendingDelete != flushId)
            {
                return new ExecutionStamp(StampKind.PendingDelete, execution, flushId);
            }
        }
        return new ExecutionStamp(StampKind.Execution, execution, flushId);
    }

    /// <summary>The active execution, from the cache while it is fresh, else from the backend.</summary>
    /// <param name="deadline">The query ends by then at the latest.</param>
    /// <param name="cancellationToken">Cancels the query (shutdown).</param>
    internal async Task<ExecutionLookup> GetAsync(DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        if (_options.FixedExecutionId is not null)
        {
            return ExecutionLookup.Active(Current!);
        }
        if (_options.UsesCollector)
        {
            // A collector resolves the execution itself (as slnodejs with a collector URL: no query).
            return ExecutionLookup.None;
        }
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (_answeredAt is { } answered && now - answered < _options.ExecutionRefreshInterval)
            {
                return _current is null ? ExecutionLookup.None : ExecutionLookup.Active(_current);
            }
        }
        var timeout = Min(_options.RequestTimeout, deadline - now);
        if (timeout <= TimeSpan.Zero)
        {
            return ExecutionLookup.Fail("no time left to ask for the active execution");
        }
        DeliveryCounters.Add(ref _counters.ExecutionQueries, 1);
        using var request = SealightsRoutes.ActiveExecutionRequest(_options, _token);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeoutSource.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsByteArrayAsync(timeoutSource.Token).ConfigureAwait(false);
                ActiveExecution? execution;
                try
                {
                    execution = SealightsRoutes.ParseActiveExecution(body);
                }
                catch (JsonException)
                {
                    Once("malformed", $"the active execution answer from {request.RequestUri} is not the expected JSON; treated as no active execution");
                    execution = null;
                }
                return Answer(execution, now);
            }
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return Answer(null, now);
            }
            if (FootprintsSender.IsRetryable(status))
            {
                return ExecutionLookup.Fail($"active execution query answered {status}");
            }
            Once($"status-{status}", $"the active execution query {request.RequestUri} was refused with {status}; treated as no active execution");
            return Answer(null, now);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ExecutionLookup.Fail($"active execution query timed out after {timeout.TotalMilliseconds:0} ms");
        }
        catch (OperationCanceledException)
        {
            return ExecutionLookup.Fail("active execution query cancelled (shutdown)");
        }
        catch (HttpRequestException e)
        {
            return ExecutionLookup.Fail($"active execution query failed: {FootprintsSender.Describe(e)}");
        }
    }

    private ExecutionLookup Answer(ActiveExecution? execution, DateTimeOffset at)
    {
        ActiveExecution? previous;
        bool seenBefore;
        lock (_gate)
        {
            previous = _current;
            seenBefore = _seenAny;
            _current = execution;
            _answeredAt = at;
            _generation++;
            _seenAny |= execution is not null;
            if (execution?.IsPendingDelete != true || execution.ExecutionId != previous?.ExecutionId || previous?.IsPendingDelete != true)
            {
                _lastFlushOfPendingDelete = null;
            }
        }
        if (execution is not null && (execution.ExecutionId != previous?.ExecutionId || execution.IsPendingDelete != (previous?.IsPendingDelete ?? false)))
        {
            _log.Info(execution.IsPendingDelete
                ? $"lab {_options.LabId}'s test execution {execution.ExecutionId} is pending deletion: one last flush goes to it, then footprints are dropped until an execution is active again"
                : $"lab {_options.LabId} has an active test execution {execution.ExecutionId} ({execution.TestStage ?? "no test stage"}, build session {execution.BuildSessionId ?? _options.BuildSessionId}): footprints go to it");
        }
        else if (execution is null && !seenBefore && _once.First("none-yet"))
        {
            _log.Info($"lab {_options.LabId} has no active test execution yet: footprints wait for the first one and go to it as init footprints (at most {_options.NoExecutionHold.TotalSeconds:0} s, SL_NO_EXECUTION_HOLD_SECONDS)");
        }
        else if (execution is null && previous is not null)
        {
            _log.Info($"lab {_options.LabId} has no active test execution any more: footprints collected until the next one are dropped");
        }
        return execution is null ? ExecutionLookup.None : ExecutionLookup.Active(execution);
    }

    private void Once(string key, string message)
    {
        if (_once.First(key))
        {
            _log.Warn(message);
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
