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
/// the sender backs off. With SL_EXECUTION_ID set nothing is queried.
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
    private ActiveExecution? _current;
    private DateTimeOffset? _answeredAt;

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
        }
    }

    /// <summary>The last known active execution (null: none, or not asked yet).</summary>
    public ActiveExecution? Current => _current;

    /// <summary>When the backend last answered (null: never).</summary>
    public DateTimeOffset? AnsweredAt => _answeredAt;

    /// <summary>The active execution, from the cache while it is fresh, else from the backend.</summary>
    /// <param name="deadline">The query ends by then at the latest.</param>
    /// <param name="cancellationToken">Cancels the query (shutdown).</param>
    internal async Task<ExecutionLookup> GetAsync(DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        if (_options.FixedExecutionId is not null)
        {
            return ExecutionLookup.Active(_current!);
        }
        var now = _time.GetUtcNow();
        if (_answeredAt is { } answered && now - answered < _options.ExecutionRefreshInterval)
        {
            return _current is null ? ExecutionLookup.None : ExecutionLookup.Active(_current);
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
        var previous = _current;
        _current = execution;
        _answeredAt = at;
        if (execution is not null && execution.ExecutionId != previous?.ExecutionId)
        {
            _log.Info($"lab {_options.LabId} has an active test execution {execution.ExecutionId} ({execution.TestStage ?? "no test stage"}): footprints go to it");
        }
        else if (execution is null && previous is null && _once.First("none-yet"))
        {
            _log.Info($"lab {_options.LabId} has no active test execution: footprints wait for one (at most {_options.NoExecutionHold.TotalSeconds:0} s, SL_NO_EXECUTION_HOLD_SECONDS)");
        }
        else if (execution is null && previous is not null)
        {
            _log.Info($"lab {_options.LabId} has no active test execution any more: footprints wait for the next one (at most {_options.NoExecutionHold.TotalSeconds:0} s)");
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
