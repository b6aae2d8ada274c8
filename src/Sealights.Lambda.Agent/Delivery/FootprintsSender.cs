using Sealights.Coverage.Tokens;
using System.Net;
using Sealights.Lambda.Agent.Configuration;
using Sealights.Lambda.Agent.Footprints;

namespace Sealights.Lambda.Agent.Delivery;

/// <summary>How a send pass ended.</summary>
public enum SendOutcome
{
    /// <summary>Nothing was pending.</summary>
    Nothing,

    /// <summary>Everything pending was delivered (or refused and dropped).</summary>
    Delivered,

    /// <summary>A recent failure's backoff has not elapsed: nothing was tried.</summary>
    BackingOff,

    /// <summary>An attempt failed in a retryable way; the batches stay in the spool.</summary>
    Failed,

    /// <summary>Batches wait for the execution knowledge (before the first execution, or for the answer after their flush).</summary>
    WaitingForExecution,

    /// <summary>The budget or deadline ran out with batches still pending.</summary>
    OutOfTime,

    /// <summary>Another pass was running for the whole budget.</summary>
    Busy,
}

/// <summary>
/// Sends spooled batches oldest-first, several per request, one pass at a time (a single gate:
/// a batch is never in two requests at once, and it leaves the spool only after a 2xx).
/// No retry inside a pass: a retryable failure (408, 429, 5xx, timeout, connection error) ends
/// the pass and sets an exponential backoff (SL_RETRY_MIN_MS doubling up to SL_RETRY_MAX_MS,
/// with jitter) that later passes respect; any other 4xx (and 3xx) drops the request's batches,
/// counted, with one log line per status. <see cref="DrainAsync"/> ignores the backoff and keeps
/// trying until its deadline.
/// </summary>
public sealed class FootprintsSender : IDisposable
{
    private static readonly TimeSpan DrainFirstPause = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan DrainMaxPause = TimeSpan.FromMilliseconds(400);
    private static readonly TimeSpan BackgroundGrace = TimeSpan.FromMilliseconds(300);

    private readonly DeliveryOptions _options;
    private readonly SealightsToken _token;
    private readonly FootprintsSpool _spool;
    private readonly AgentLog _log;
    private readonly DeliveryCounters _counters;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    // Cancels only background passes: a drain cuts a stuck one loose without cutting itself.
    private readonly CancellationTokenSource _abandonBackground;
    private long _passStartedAt;
    private readonly OnceLog _once = new();
    private readonly object _backgroundLock = new();
    private Task _background = Task.CompletedTask;
    private int _kickRequested;
    private volatile bool _draining;
    private int _consecutiveFailures;
    private string? _lastFailure;
    private DateTimeOffset _nextAttemptAt = DateTimeOffset.MinValue;

    internal FootprintsSender(DeliveryOptions options, SealightsToken token, FootprintsSpool spool, AgentLog log, DeliveryCounters counters, TimeProvider time)
    {
        _options = options;
        _token = token;
        _spool = spool;
        _log = log;
        _counters = counters;
        _time = time;
        // No client-wide timeout and no retries: every request gets its own bound (timeout, budget, deadline).
        _http = new HttpClient(CreateHandler(options), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _abandonBackground = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        Executions = new ActiveExecutionCache(options, token, _http, log, counters, time);
    }

    public ActiveExecutionCache Executions { get; }

    /// <summary>No pass (except a drain) attempts anything before this.</summary>
    public DateTimeOffset NextAttemptAt => _nextAttemptAt;

    public int ConsecutiveFailures => _consecutiveFailures;

    /// <summary>
    /// SL_PROXY when set (else the runtime's default proxy settings), short idle pooling (a
    /// connection kept across a long freeze is usually dead), no automatic redirects (they would
    /// turn a POST into a GET without the token).
    /// </summary>
    public static SocketsHttpHandler CreateHandler(DeliveryOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.RequestTimeout < TimeSpan.FromSeconds(5) ? options.RequestTimeout : TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(20),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        if (options.Proxy is { } proxy)
        {
            var webProxy = new WebProxy(proxy);
            if (options.ProxyCredentials is { } credentials)
            {
                webProxy.Credentials = new NetworkCredential(credentials.User, credentials.Password);
            }
            handler.Proxy = webProxy;
            handler.UseProxy = true;
        }
        return handler;
    }

    /// <summary>408, 429 and 5xx are worth retrying later; other statuses are final.</summary>
    public static bool IsRetryable(int status) => status is 408 or 429 or >= 500;

    /// <summary>
    /// Starts a background pass unless one is running (then it is asked to look again) or the
    /// sender is draining. Returns at once.
    /// </summary>
    public void Kick()
    {
        if (_draining)
        {
            return;
        }
        if (!_gate.Wait(0))
        {
            Volatile.Write(ref _kickRequested, 1);
            return;
        }
        Volatile.Write(ref _kickRequested, 0);
        Volatile.Write(ref _passStartedAt, _time.GetTimestamp());
        lock (_backgroundLock)
        {
            _background = Task.Run(async () =>
            {
                try
                {
                    await PumpAsync(DateTimeOffset.MaxValue, ignoreBackoff: false, _abandonBackground.Token).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    Unexpected(e);
                }
                finally
                {
                    Release();
                }
            });
        }
    }

    /// <summary>
    /// One pass that ends by <paramref name="deadline"/>: waits for a running pass at most until
    /// then, and not at all for one that has already run longer than that wait (a request stuck
    /// on a slow backend: it takes the new batches when it is done).
    /// </summary>
    public async Task<SendOutcome> SendPendingAsync(DateTimeOffset deadline)
    {
        var wait = deadline - _time.GetUtcNow();
        if (wait <= TimeSpan.Zero)
        {
            return SendOutcome.OutOfTime;
        }
        if (!_gate.Wait(0)
            && (_time.GetElapsedTime(Volatile.Read(ref _passStartedAt)) >= wait || !await _gate.WaitAsync(Clamp(wait)).ConfigureAwait(false)))
        {
            return SendOutcome.Busy;
        }
        try
        {
            return await PumpAsync(deadline, ignoreBackoff: false, _stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            Release();
        }
    }

    /// <summary>
    /// SHUTDOWN: sends what it can, ignoring the backoff, with no request in flight past
    /// <paramref name="deadline"/> minus <see cref="DeliveryOptions.DrainMargin"/>. What is left
    /// stays in the spool, is counted, and is reported in one log line. Later kicks do nothing.
    /// </summary>
    public async Task<SendOutcome> DrainAsync(DateTimeOffset deadline)
    {
        _draining = true;
        var hardStop = deadline - _options.DrainMargin;
        var left = hardStop - _time.GetUtcNow();
        // A background pass still in flight (e.g. a hanging request) is cut at the hard stop too.
        if (left > TimeSpan.Zero)
        {
            _stopping.CancelAfter(Clamp(left));
        }
        else
        {
            _stopping.Cancel();
        }
        var outcome = SendOutcome.OutOfTime;
        // A background pass gets a short grace to finish its request; one still stuck after it is
        // cut loose so the drain has the time that is left (its batches stay in the spool).
        var grace = Clamp(left / 4 < BackgroundGrace ? left / 4 : BackgroundGrace);
        var acquired = left > TimeSpan.Zero && await _gate.WaitAsync(grace).ConfigureAwait(false);
        if (!acquired && left > TimeSpan.Zero)
        {
            await _abandonBackground.CancelAsync().ConfigureAwait(false);
            left = hardStop - _time.GetUtcNow();
            acquired = left > TimeSpan.Zero && await _gate.WaitAsync(Clamp(left)).ConfigureAwait(false);
        }
        if (acquired)
        {
            try
            {
                var pause = DrainFirstPause;
                while (true)
                {
                    outcome = await PumpAsync(hardStop, ignoreBackoff: true, _stopping.Token).ConfigureAwait(false);
                    if (outcome != SendOutcome.Failed)
                    {
                        break;
                    }
                    if (hardStop - _time.GetUtcNow() <= pause)
                    {
                        outcome = SendOutcome.OutOfTime;
                        break;
                    }
                    await Task.Delay(pause).ConfigureAwait(false);
                    pause = pause * 2 < DrainMaxPause ? pause * 2 : DrainMaxPause;
                }
            }
            catch (Exception e)
            {
                Unexpected(e);
            }
            finally
            {
                _gate.Release();
            }
        }
        var pending = _spool.Oldest(int.MaxValue, long.MaxValue);
        if (pending.Count > 0)
        {
            Interlocked.Exchange(ref _counters.UndeliveredAtShutdown, pending.Count);
            var reason = outcome == SendOutcome.WaitingForExecution
                ? $"lab {_options.LabId} has no active test execution"
                : _lastFailure ?? "no time left before the shutdown deadline";
            _log.Warn($"{pending.Count} footprints batches ({pending.Sum(e => (long)e.Methods)} methods) could not be delivered before shutdown: {reason}");
        }
        return outcome;
    }

    internal async Task StopAsync()
    {
        _draining = true;
        _stopping.Cancel();
        Task background;
        lock (_backgroundLock)
        {
            background = _background;
        }
        try
        {
            await background.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // It ends on its own once its request sees the cancellation.
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _http.Dispose();
        _abandonBackground.Dispose();
    }

    internal static string Describe(HttpRequestException e) => TransportFailure.Describe(e);

    private async Task<SendOutcome> PumpAsync(DateTimeOffset deadline, bool ignoreBackoff, CancellationToken cancellation)
    {
        Volatile.Write(ref _passStartedAt, _time.GetTimestamp());
        var delivered = false;
        while (true)
        {
            if (_spool.Count == 0)
            {
                return delivered ? SendOutcome.Delivered : SendOutcome.Nothing;
            }
            var now = _time.GetUtcNow();
            if (now >= deadline || cancellation.IsCancellationRequested)
            {
                return SendOutcome.OutOfTime;
            }
            if (!ignoreBackoff && now < _nextAttemptAt)
            {
                return SendOutcome.BackingOff;
            }
            // Keeps the knowledge fresh (cached 10 s; no query with a collector or SL_EXECUTION_ID).
            var lookup = await Executions.GetAsync(deadline, cancellation).ConfigureAwait(false);
            if (lookup.Failed)
            {
                Failure(lookup.Failure!);
                return SendOutcome.Failed;
            }
            var next = NextRequest(now);
            if (next is null)
            {
                return _spool.Count == 0
                    ? delivered ? SendOutcome.Delivered : SendOutcome.Nothing
                    : SendOutcome.WaitingForExecution;
            }
            if (next.Value.Batch.Count == 0)
            {
                continue;
            }
            var outcome = await PostAsync(next.Value.Stamp, next.Value.Batch, deadline, cancellation).ConfigureAwait(false);
            if (outcome != SendOutcome.Delivered)
            {
                return outcome;
            }
            delivered = true;
        }
    }

    /// <summary>
    /// Decides what can be decided with what is known now (<see cref="ActiveExecutionCache.Resolve"/>),
    /// drops what was collected without an active execution or after a pending deletion's last
    /// flush, and what waited for a first execution longer than SL_NO_EXECUTION_HOLD_SECONDS; then
    /// the oldest sendable batches that share one destination, in spool order (null: nothing sendable).
    /// </summary>
    private (ExecutionStamp Stamp, List<(SpoolEntry Entry, FootprintsHits Hits)> Batch)? NextRequest(DateTimeOffset now)
    {
        var holdCutoffMs = _options.NoExecutionHold <= TimeSpan.Zero ? long.MaxValue : (now - _options.NoExecutionHold).ToUnixTimeMilliseconds();
        var noExecution = new List<SpoolEntry>();
        var afterPendingDelete = new List<(SpoolEntry Entry, ExecutionStamp Stamp)>();
        var expired = new List<SpoolEntry>();
        ExecutionStamp? destination = null;
        var chosen = new List<SpoolEntry>();
        var full = false;
        long size = 0;
        foreach (var entry in _spool.Oldest(int.MaxValue, long.MaxValue))
        {
            if (_spool.StampOf(entry) is not { } stamp)
            {
                continue;
            }
            var decided = Executions.Resolve(stamp);
            if (!ReferenceEquals(decided, stamp))
            {
                _spool.Decide(entry, decided);
            }
            switch (decided.Kind)
            {
                case StampKind.NoExecution:
                    noExecution.Add(entry);
                    continue;
                case StampKind.PendingDelete:
                    afterPendingDelete.Add((entry, decided));
                    continue;
                case StampKind.BeforeFirstExecution when entry.CreatedAtMs < holdCutoffMs:
                    expired.Add(entry);
                    continue;
                case StampKind.BeforeFirstExecution or StampKind.Pending:
                    continue;
            }
            if (full)
            {
                continue;
            }
            if (destination is null)
            {
                destination = decided;
            }
            else if (!destination.SameDestination(decided) || chosen.Count >= _options.MaxBatchesPerRequest || size + entry.Size > _options.MaxRequestBytes)
            {
                // Another execution's batches (or a full request): the next request, in spool order.
                full = true;
                continue;
            }
            chosen.Add(entry);
            size += entry.Size;
        }
        DropUnattributed(noExecution, afterPendingDelete, expired);
        if (destination is null)
        {
            return null;
        }
        var batch = new List<(SpoolEntry Entry, FootprintsHits Hits)>(chosen.Count);
        foreach (var entry in chosen)
        {
            if (_spool.Read(entry) is { } hits)
            {
                // Hits that waited for the first execution go out with it as init footprints (as slnodejs sends them).
                batch.Add((entry, _spool.StampOf(entry)?.WaitedForFirst == true ? hits with { IsInit = true } : hits));
            }
        }
        return (destination, batch);
    }

    private void DropUnattributed(List<SpoolEntry> noExecution, List<(SpoolEntry Entry, ExecutionStamp Stamp)> afterPendingDelete, List<SpoolEntry> expired)
    {
        static void Count(DeliveryCounters counters, int batches, long methods)
        {
            DeliveryCounters.Add(ref counters.DroppedNoExecution, batches);
            DeliveryCounters.Add(ref counters.MethodsDropped, methods);
        }
        if (noExecution.Count > 0)
        {
            _spool.Remove(noExecution, Count);
            if (_once.First("no-execution-drop"))
            {
                _log.Warn($"footprints collected while lab {_options.LabId} had no active test execution are dropped ({noExecution.Count} batches, {noExecution.Sum(e => (long)e.Methods)} methods): they belong to no test run; further drops are counted without a log line");
            }
        }
        if (afterPendingDelete.Count > 0)
        {
            _spool.Remove(afterPendingDelete.Select(d => d.Entry), Count);
            if (_once.First("pending-delete-drop"))
            {
                _log.Warn($"footprints collected after the last flush of test execution {afterPendingDelete[0].Stamp.Execution?.ExecutionId} (pending deletion) are dropped ({afterPendingDelete.Count} batches) until an execution is active again; further drops are counted without a log line");
            }
        }
        if (expired.Count > 0)
        {
            _spool.Remove(expired, Count);
            if (_once.First("first-execution-wait-drop"))
            {
                _log.Warn($"lab {_options.LabId} had no active test execution within {_options.NoExecutionHold.TotalSeconds:0} s of the flush (SL_NO_EXECUTION_HOLD_SECONDS): {expired.Count} footprints batches collected before the first execution dropped; further drops are counted without a log line");
            }
        }
    }

    private async Task<SendOutcome> PostAsync(ExecutionStamp stamp, List<(SpoolEntry Entry, FootprintsHits Hits)> batch, DateTimeOffset deadline, CancellationToken cancellation)
    {
        // The batches' own execution (route, header and body), even when another one is active now:
        // an execution's hits never go to the next one.
        var execution = stamp.Kind == StampKind.Collector ? null : stamp.Execution;
        var json = FootprintsV6.Serialize(
            _options.AgentId, _options.LabId, execution?.ExecutionId, batch.ConvertAll(b => b.Hits),
            _options.UsesCollector ? _options.Metadata.ToAgentConfig(_options) : null);
        using var request = SealightsRoutes.FootprintsRequest(_options, _token, execution, json);
        var timeout = deadline - _time.GetUtcNow();
        timeout = timeout < _options.RequestTimeout ? timeout : _options.RequestTimeout;
        if (timeout <= TimeSpan.Zero)
        {
            return SendOutcome.OutOfTime;
        }
        var methods = batch.Sum(b => (long)b.Hits.Methods.Count);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeoutSource.CancelAfter(timeout);
        int status;
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeoutSource.Token).ConfigureAwait(false);
            status = (int)response.StatusCode;
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            Failure($"{request.RequestUri} did not answer within {timeout.TotalMilliseconds:0} ms");
            return SendOutcome.Failed;
        }
        catch (OperationCanceledException)
        {
            Failure($"the request to {request.RequestUri} was cut for the shutdown drain");
            return SendOutcome.OutOfTime;
        }
        catch (HttpRequestException e)
        {
            Failure($"{request.RequestUri}: {Describe(e)}");
            return SendOutcome.Failed;
        }

        if (status is >= 200 and < 300)
        {
            _spool.Remove(batch.Select(b => b.Entry), static (counters, batches, methods) =>
            {
                DeliveryCounters.Add(ref counters.BatchesSent, batches);
                DeliveryCounters.Add(ref counters.MethodsSent, methods);
                DeliveryCounters.Add(ref counters.RequestsSent, 1);
            });
            if (_consecutiveFailures > 0)
            {
                _log.Info($"footprints delivered again after {_consecutiveFailures} failed attempts");
            }
            _consecutiveFailures = 0;
            _lastFailure = null;
            _nextAttemptAt = DateTimeOffset.MinValue;
            _log.Debug($"delivered {batch.Count} footprints batches ({methods} methods) to {(execution is null ? "the collector" : "execution " + execution.ExecutionId)}");
            return SendOutcome.Delivered;
        }
        if (IsRetryable(status))
        {
            Failure($"{request.RequestUri} answered {status}");
            return SendOutcome.Failed;
        }
        // Refused for good (bad token, bad route, unknown build session…): retrying cannot help.
        _spool.Remove(batch.Select(b => b.Entry), static (counters, batches, methods) =>
        {
            DeliveryCounters.Add(ref counters.DroppedRejected, batches);
            DeliveryCounters.Add(ref counters.MethodsDropped, methods);
        });
        if (_once.First($"refused-{status}"))
        {
            _log.Warn($"{request.RequestUri} refused footprints with {status}: {batch.Count} batches ({methods} methods) dropped; further refusals with {status} are counted without a log line");
        }
        return SendOutcome.Delivered;
    }

    private void Failure(string reason)
    {
        DeliveryCounters.Add(ref _counters.FailedAttempts, 1);
        _consecutiveFailures++;
        _lastFailure = reason;
        var exponent = Math.Min(_consecutiveFailures - 1, 30);
        var delay = _options.RetryMinDelay.TotalMilliseconds * Math.Pow(2, exponent);
        delay = Math.Min(delay, _options.RetryMaxDelay.TotalMilliseconds);
        // Jitter: environments that failed together do not all come back at the same instant.
        delay *= 0.5 + Random.Shared.NextDouble() * 0.5;
        _nextAttemptAt = _time.GetUtcNow() + TimeSpan.FromMilliseconds(delay);
        if (_consecutiveFailures == 1)
        {
            _log.Warn($"footprints not delivered ({reason}); {_spool.Count} batches kept in the spool, retried later with backoff");
        }
        else
        {
            _log.Debug($"footprints still not delivered ({reason}); attempt {_consecutiveFailures}, next in {delay:0} ms");
        }
    }

    private void Release()
    {
        _gate.Release();
        if (!_draining && Interlocked.Exchange(ref _kickRequested, 0) == 1)
        {
            Kick();
        }
    }

    private void Unexpected(Exception e)
    {
        if (_once.First("unexpected-" + e.GetType().Name))
        {
            _log.Warn($"footprints delivery hit an unexpected {e.GetType().Name}: {e.Message}; batches stay in the spool");
        }
    }

    private static TimeSpan Clamp(TimeSpan value) =>
        value > TimeSpan.FromMilliseconds(int.MaxValue - 1) ? TimeSpan.FromMilliseconds(int.MaxValue - 1) : value;
}
