using Sealights.Coverage.Tokens;
using Sealights.Lambda.Agent.Configuration;
using Sealights.Lambda.Agent.Footprints;
using Sealights.Lambda.Agent.Lifecycle;
using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Delivery;

/// <summary>
/// Method hits → footprints at the backend, under Lambda's rules: <see cref="WriteAsync"/> only
/// spools (a few ms, bounded) and kicks a background send; the lifecycle offers bounded send
/// opportunities (<see cref="SendPendingAsync"/>) and a last one at SHUTDOWN
/// (<see cref="DrainAsync"/>). Nothing here throws; memory and disk are bounded by the spool's
/// caps. See Delivery/README.md for the rules.
/// </summary>
public sealed class FootprintsDelivery : IMethodHitSink, IAsyncDisposable
{
    private readonly AgentLog _log;
    private readonly TimeProvider _time;
    private readonly DeliveryCounters _counters = new();
    private readonly FootprintsSpool _spool;
    private readonly FootprintsSender _sender;
    private readonly OnceLog _once = new();
    private readonly object _firstInvokeLock = new();
    private DateTimeOffset? _firstInvokeAt;
    private readonly LifecycleCalls? _lifecycle;
    private long _flushes;
    private long _lastBackgroundSend = long.MinValue;

    /// <param name="options">From <see cref="DeliveryOptions.TryCreate"/>.</param>
    /// <param name="token">The agent token (Bearer; never logged).</param>
    /// <param name="log">The agent's log.</param>
    /// <param name="time">The clock for backoff, the execution cache and the hold rule (tests shift it).</param>
    /// <param name="announce">
    /// When given, the agent announces itself from the first INVOKE on (<see cref="LifecycleCalls"/>:
    /// build session, remote configuration, agent events, the start event's facts read by this), and
    /// footprints wait for the remote configuration. Without it, only footprints and execution queries.
    /// </param>
    public FootprintsDelivery(DeliveryOptions options, SealightsToken token, AgentLog log, TimeProvider? time = null, Func<LambdaFacts>? announce = null)
    {
        Options = options;
        _log = log;
        _time = time ?? TimeProvider.System;
        _spool = new FootprintsSpool(options, log, _counters, _time);
        _sender = new FootprintsSender(options, token, _spool, log, _counters, _time);
        if (announce is not null)
        {
            _lifecycle = new LifecycleCalls(options, token, log, _sender.Executions, () => Statistics, _sender.Kick, announce, _time);
        }
        log.Info($"footprints go to the {options.Describe()}");
        if (_spool.Adopted > 0)
        {
            log.Info($"{_spool.Adopted} undelivered footprints batches found in {options.SpoolDirectory}: sent first");
        }
    }

    public DeliveryOptions Options { get; }

    /// <summary>The lab's active execution as last seen (null: none or not asked yet).</summary>
    public ActiveExecution? ActiveExecution => _sender.Executions.Current;

    /// <summary>A consistent snapshot: a batch that left the spool is already counted as sent or dropped.</summary>
    public DeliveryStatistics Statistics => _spool.Snapshot();

    /// <summary>The lifecycle calls, when the agent announces itself (null otherwise).</summary>
    public LifecycleCalls? Lifecycle => _lifecycle;

    /// <summary>
    /// Call once, when the first INVOKE arrives (with its arrival time): methods first seen
    /// before it are init footprints (<c>isInitFootprints</c>). Until it is called every hit
    /// counts as init. Later calls are ignored.
    /// </summary>
    public void MarkFirstInvoke(DateTimeOffset receivedAt)
    {
        lock (_firstInvokeLock)
        {
            _firstInvokeAt ??= receivedAt;
        }
        // The runtime has started and init is over: the first moment the agent may talk to Sealights.
        _lifecycle?.Start();
    }

    /// <summary>Every INVOKE (after <see cref="MarkFirstInvoke"/> for the first): a moment for a due ping.</summary>
    public void Invoked()
    {
        try
        {
            _lifecycle?.Invoked();
        }
        catch (Exception e)
        {
            Unexpected("invoke", e);
        }
    }

    /// <summary>
    /// Spools the flush (one or two batches; the SHUTDOWN flush is marked final), stamped with the
    /// execution it belongs to as known now (<see cref="ActiveExecutionCache.Stamp"/>: no request,
    /// no wait), and kicks a background send (at most every SL_FLUSH_INTERVAL_SECONDS, always for
    /// the final flush). Returns when the batches are spooled; never throws,
    /// ignores cancellation.
    /// </summary>
    public Task WriteAsync(IReadOnlyList<MethodHit> hits, bool isFinal, CancellationToken cancellationToken)
    {
        try
        {
            if (_lifecycle is { FootprintsOff: true })
            {
                // Sealights' remote configuration turned footprints off (said once, by LifecycleCalls).
                return Task.CompletedTask;
            }
            DateTimeOffset? firstInvoke;
            lock (_firstInvokeLock)
            {
                firstInvoke = _firstInvokeAt;
            }
            var entries = FootprintsHitsBuilder.FromMethodHits(hits, firstInvoke, isFinal);
            if (entries.Count > 0)
            {
                var stamp = _sender.Executions.Stamp(Interlocked.Increment(ref _flushes));
                foreach (var entry in entries)
                {
                    _spool.Append(entry, stamp);
                }
            }
            if (entries.Count > 0)
            {
                _lifecycle?.FootprintsCollected();
                // With lifecycle calls, the first send waits for the remote configuration (they kick it then).
                // A background send at most every SL_FLUSH_INTERVAL_SECONDS: with probes every
                // invocation is written, and a request each time would run beside the next one.
                // Sooner when half the spool is taken: a warm function called back to back (300
                // invocations a second in the bench) fills the 1,000 batches in ~3 s, and a full
                // spool drops its oldest.
                if ((_lifecycle is null || _lifecycle.FootprintsMayGo) && (isFinal || BackgroundSendIsDue() || _spool.HalfFull))
                {
                    DeliveryCounters.Add(ref _counters.BackgroundSendsKicked, 1);
                    _sender.Kick();
                }
            }
        }
        catch (Exception e)
        {
            Unexpected("write", e);
        }
        return Task.CompletedTask;
    }

    // On the delivery's clock (as backoff and the execution cache), so tests can move it.
    private bool BackgroundSendIsDue()
    {
        var now = _time.GetUtcNow().UtcTicks;
        var last = Interlocked.Read(ref _lastBackgroundSend);
        if (last != long.MinValue && now - last < Options.FlushInterval.Ticks)
        {
            return false;
        }
        return Interlocked.CompareExchange(ref _lastBackgroundSend, now, last) == last;
    }

    /// <summary>
    /// A send opportunity (e.g. right after the runtime finished an invocation): sends pending
    /// batches unless a backoff is running, and returns within <paramref name="budget"/>
    /// (default <see cref="DeliveryOptions.FlushBudget"/>, SL_FLUSH_BUDGET_MS). Never throws.
    /// </summary>
    public async Task<SendOutcome> SendPendingAsync(TimeSpan? budget = null)
    {
        var deadline = _time.GetUtcNow() + (budget ?? Options.FlushBudget);
        try
        {
            if (_lifecycle is { } lifecycle)
            {
                // The start calls run in the background; this opportunity waits for them within its budget only.
                var left = deadline - _time.GetUtcNow();
                if (!lifecycle.Concluded.IsCompleted && (left <= TimeSpan.Zero || await Task.WhenAny(lifecycle.Concluded, Task.Delay(left)).ConfigureAwait(false) != lifecycle.Concluded))
                {
                    return SendOutcome.Busy;
                }
                if (lifecycle.FootprintsOff)
                {
                    return SendOutcome.Nothing;
                }
            }
            return await _sender.SendPendingAsync(deadline).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Unexpected("send", e);
            return SendOutcome.Failed;
        }
    }

    /// <summary>
    /// SHUTDOWN: pass the event's deadline. Sends what it can (ignoring backoff) so that no
    /// request is in flight after <paramref name="deadline"/> minus
    /// <see cref="DeliveryOptions.DrainMargin"/>; what is left is counted and logged once, and
    /// one summary line is logged. Never throws.
    /// </summary>
    public async Task<SendOutcome> DrainAsync(DateTimeOffset deadline)
    {
        var outcome = SendOutcome.OutOfTime;
        // 1002 (and what is still queued) goes out beside the drain, within the same deadline.
        var events = _lifecycle?.ShutdownAsync(deadline) ?? Task.CompletedTask;
        try
        {
            // Start calls cut by SHUTDOWN leave the defaults: footprints go (coverage is not dropped on a guess).
            outcome = _lifecycle is { FootprintsOff: true } ? SendOutcome.Nothing : await _sender.DrainAsync(deadline).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Unexpected("drain", e);
        }
        await events.ConfigureAwait(false);
        _log.Info($"footprints delivery: {Statistics}");
        return outcome;
    }

    void IMethodHitSink.FirstInvoke(DateTimeOffset receivedAt) => MarkFirstInvoke(receivedAt);

    void IMethodHitSink.Invoked() => Invoked();

    Task IMethodHitSink.SendPendingAsync(TimeSpan budget) => SendPendingAsync(budget);

    Task IMethodHitSink.DrainAsync(DateTimeOffset deadline) => DrainAsync(deadline);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _sender.StopAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Unexpected("dispose", e);
        }
        _sender.Dispose();
        _lifecycle?.Dispose();
    }

    private void Unexpected(string where, Exception e)
    {
        if (_once.First(where))
        {
            _log.Warn($"footprints delivery ({where}) hit an unexpected {e.GetType().Name}: {e.Message}");
        }
    }
}
