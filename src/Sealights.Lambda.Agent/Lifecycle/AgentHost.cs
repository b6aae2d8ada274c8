using Sealights.Lambda.Agent.Configuration;
using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>
/// When hits leave the runtime and go out. <paramref name="UseTelemetryApi"/>: flush right after a
/// response (on <c>platform.runtimeDone</c>) when <paramref name="FlushInterval"/> has passed since
/// the last such flush; that post-runtime work gets at most <paramref name="Budget"/>. Without it,
/// <paramref name="WhyAtInvokeOnly"/> says why, for the log (a setting only when the user set it).
/// </summary>
public sealed record FlushPolicy(bool UseTelemetryApi, TimeSpan FlushInterval, TimeSpan Budget, string? WhyAtInvokeOnly = null)
{
    public static FlushPolicy AtInvokeOnly(string why) => new(false, TimeSpan.Zero, TimeSpan.Zero, why);

    /// <summary>The debug file alone: every invocation flushed right after its response (where the Telemetry API is offered).</summary>
    public static FlushPolicy AfterEveryResponse() => new(true, TimeSpan.Zero, DebugFileBudget);

    /// <summary>Post-runtime time per flush for the debug file alone: a rotation under load takes 25-110 ms.</summary>
    public static readonly TimeSpan DebugFileBudget = TimeSpan.FromSeconds(1);
}

/// <summary>
/// The extension's lifecycle: listen for the runtime, register, then turn INVOKE and SHUTDOWN
/// events into flushes of method hits. Nothing here runs on the caller's path:
/// <list type="bullet">
/// <item>At INVOKE the previous invocations' hits are flushed in the background and the agent
/// calls next at once; the hits then leave with the delivery's background send, at the next
/// opportunity, or at SHUTDOWN.</item>
/// <item>With the Telemetry API (real Lambda, our emulator) an invocation may instead be flushed
/// right after its response: the agent holds next until <c>platform.runtimeDone</c>, rotates,
/// spools and sends within the policy's budget, then calls next. Only when the flush interval
/// has passed, so most warm invocations cost no post-runtime time at all.</item>
/// <item>A probed runtime whose library harvests at each invocation's end (the collector's
/// <see cref="MethodHitCollector.HarvestsAtBoundaries"/>) needs neither: its harvests arrive by
/// themselves and are spooled in order; a send opportunity waits for the invocation's own.</item>
/// <item>At SHUTDOWN it spends at most the deadline minus a margin.</item>
/// </list>
/// <para>
/// Lambda stops the runtime (SIGTERM) BEFORE it sends SHUTDOWN, and a .NET process killed by
/// SIGTERM takes its unflushed EventPipe buffers with it. So the exec wrapper holds the SIGTERM
/// back, asks for one more flush (<see cref="FlushBeforeRuntimeExit"/>) and forwards it when
/// <see cref="FlushedMarkerFileName"/> appears: the last invocation's hits are not lost.
/// </para>
/// </summary>
public sealed class AgentHost(
    AgentOptions options,
    AgentLog log,
    ExtensionsApiClient api,
    string extensionName,
    Func<string?>? launcherIdentifier,
    MethodHitCollector source,
    Func<IMethodHitSink> createSink,
    FlushPolicy policy,
    StartupTimeline startup)
{
    /// <summary>Left of SHUTDOWN's deadline for writing the last hits and exiting before SIGKILL.</summary>
    public static readonly TimeSpan ShutdownMargin = TimeSpan.FromMilliseconds(250);

    /// <summary>How long after INVOKE <c>platform.start</c> may take before the Telemetry API counts as broken.</summary>
    public static readonly TimeSpan TelemetryStartTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The agent's pid, for the exec wrapper's flush request (SIGUSR1).</summary>
    public const string PidFileName = "agent.pid";

    /// <summary>Created when the flush the exec wrapper asked for is done.</summary>
    public const string FlushedMarkerFileName = "flushed";

    /// <summary>
    /// How long after the first INVOKE the agent waits (in the background) for the runtime's first
    /// connection before it says the runtime is untraced. The runtime connects as it starts, well
    /// before it asks for its first invocation; this only covers a slow accept on a busy machine.
    /// Then a few short steps more: a frozen stretch ends the long wait at once on thaw, and the
    /// accept loop, thawed at the same moment, must get some running time first. SHUTDOWN
    /// concludes a wait still going on.
    /// </summary>
    public static readonly TimeSpan FirstConnectionLimit = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan FirstConnectionStep = TimeSpan.FromMilliseconds(100);

    private readonly object _flushLock = new();
    // Made at first use (the first INVOKE at the latest): an HTTP client and the spool's folder are
    // nothing the function's init should wait for or share the CPU with.
    private readonly Lazy<IMethodHitSink> _sink = new(createSink);
    private Task _flushing = Task.CompletedTask;
    // Probe flushes: what follows the harvest (session stop, mapping, spooling) runs here, beside the next invocation.
    private Task _delivering = Task.CompletedTask;
    private int _methodsReported;
    private TelemetryListener? _telemetry;
    private long _lastFlushAfterResponse = long.MinValue;
    private bool _previousFlushedAfterResponse;
    private int _untracedSaid;
    private int _harvestLateSaid;

    /// <summary>
    /// The extension's event loop, on the calling thread (the agent's main thread, which has
    /// nothing else to do): register (or take the launcher's registration, when
    /// <c>launcherIdentifier</c> is given), then wait in next until SHUTDOWN. Flushes at INVOKE run
    /// in the background; this thread only starts them.
    /// </summary>
    public int Run()
    {
        // A marker left by an earlier environment in the same /tmp must never be taken for ours.
        File.Delete(StateFile(FlushedMarkerFileName));
        if (launcherIdentifier is null)
        {
            // Registering is the last step of the agent's part of every cold start: Lambda starts
            // the runtime once every extension registered. So nothing else comes before it.
            api.Register(extensionName, ["INVOKE", "SHUTDOWN"]);
            startup.Registered();
        }
        else if (launcherIdentifier() is { } identifier)
        {
            api.UseRegistration(identifier);
        }
        else
        {
            log.Error("the launcher could not register the extension; the function runs without coverage");
            return AgentExitCodes.Failed;
        }
        // From here on the agent only competes with the function's start: it yields the CPU.
        if (CpuPriority.LowerAllThreads(CpuPriority.Background) is { } failure)
        {
            log.Info($"could not lower the agent's CPU priority ({failure}); it runs at normal priority");
        }
        source.InvocationHarvested = WriteHarvest;
        source.StartCollecting();
        File.WriteAllText(StateFile(PidFileName), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var flushing = SubscribeToTelemetry();
        log.Info($"registered as {extensionName} ({startup.Describe()}); collecting method hits from the function's .NET runtime; {flushing}");

        var invocations = 0;
        while (true)
        {
            var next = api.Next();
            switch (next.Type)
            {
                case ExtensionEventType.Invoke:
                    Invoked(next, ++invocations);
                    break;
                case ExtensionEventType.Shutdown:
                    // Waiting on this thread is safe: it has no synchronization context.
                    ShutdownAsync(next, invocations).GetAwaiter().GetResult();
                    _telemetry?.Dispose();
                    return AgentExitCodes.ShutdownComplete;
                default:
                    // Only INVOKE and SHUTDOWN were asked for, and a SHUTDOWN would not be followed
                    // by anything: an unreadable event is taken for an INVOKE (at worst one extra
                    // background rotation; never a wait, since it has no request id to wait for).
                    log.Warn($"an event the agent cannot read ({next.Problem}): taken for an INVOKE");
                    Invoked(next with { RequestId = null, Deadline = null }, ++invocations);
                    break;
            }
        }
    }

    private string SubscribeToTelemetry()
    {
        const string AtInvoke = "hits are flushed at the next INVOKE and at SHUTDOWN";
        if (!policy.UseTelemetryApi)
        {
            return policy.WhyAtInvokeOnly is { } why ? $"{AtInvoke} ({why})" : AtInvoke;
        }
        TelemetryListener? listener = null;
        try
        {
            listener = TelemetryListener.Start(log.Warn);
            if (api.SubscribeToTelemetry(listener.Destination) is { } answer)
            {
                listener.Dispose();
                return $"{AtInvoke} (the Telemetry API is not offered here: {answer})";
            }
            _telemetry = listener;
            return policy.FlushInterval == TimeSpan.Zero
                ? "hits are flushed right after every response (Telemetry API)"
                : $"hits are flushed right after a response at most every {policy.FlushInterval.TotalSeconds:0.#} s (Telemetry API), else at the next INVOKE";
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ExtensionsApiException)
        {
            listener?.Dispose();
            return $"{AtInvoke} (Telemetry API subscription failed: {e.Message})";
        }
    }

    private void Invoked(ExtensionEvent invoke, int invocation)
    {
        var receivedAt = DateTimeOffset.UtcNow;
        if (invocation == 1)
        {
            _sink.Value.FirstInvoke(receivedAt);
            _ = SayIfTheRuntimeNeverConnectsAsync();
        }
        // Returns at once: what it starts (a ping that is due) runs in the background.
        _sink.Value.Invoked();
        if (source.HarvestsAtBoundaries)
        {
            // The function harvests this invocation by itself at its end (its next request to the
            // Runtime API): nothing to flush and nothing to wait for, but for a send opportunity,
            // which still waits for the response so that no request runs beside the function.
            source.MarkInvoked(receivedAt, invoke.RequestId);
            _previousFlushedAfterResponse = true;
            if (_telemetry is { } current && invoke.RequestId is not null && FlushIsDue())
            {
                SendAfterResponse(current, invoke.RequestId, invoke.Deadline);
            }
            return;
        }
        // Probes: each flush covers one invocation when it follows that invocation's response.
        var flushAfterResponse = _telemetry is not null && invoke.RequestId is not null && (source.FlushesCheaply || FlushIsDue());
        // The invocations since the last flush: unless the previous one was flushed right after
        // its response, its hits (and init's) are still in the runtime. With probes, a flush now
        // would cut this invocation in two; the one after its response takes init's hits with it.
        if (!_previousFlushedAfterResponse && !(flushAfterResponse && source.FlushesCheaply))
        {
            lock (_flushLock)
            {
                if (_flushing.IsCompleted)
                {
                    _flushing = FlushAsync();
                }
                else
                {
                    // A rotation is still running (e.g. frozen mid-way); this invocation's hits come with the next one.
                    log.Debug($"INVOKE {invoke.RequestId}: previous flush still running");
                }
            }
        }
        // After the INVOKE-time flush above: its probe hits are dated from the previous INVOKE.
        source.MarkInvoked(receivedAt, invoke.RequestId);
        _previousFlushedAfterResponse = flushAfterResponse && _telemetry is { } telemetry
            && FlushAfterResponse(telemetry, invoke.RequestId!, invoke.Deadline);
    }

    /// <summary>
    /// An enabled agent whose runtime never connects would otherwise only report "collected 0"
    /// at SHUTDOWN. One line says why, unless the exec wrapper already did (it started the runtime
    /// without the port and left its reason beside the status file).
    /// </summary>
    private async Task SayIfTheRuntimeNeverConnectsAsync()
    {
        await Task.WhenAny(source.FirstConnection, Task.Delay(FirstConnectionLimit));
        for (var step = 0; step < 3 && !source.FirstConnection.IsCompleted; step++)
        {
            await Task.WhenAny(source.FirstConnection, Task.Delay(FirstConnectionStep));
        }
        SayUntracedOnce();
    }

    private void SayUntracedOnce()
    {
        if (source.FirstConnection.IsCompleted || !source.IsCollecting || Interlocked.Exchange(ref _untracedSaid, 1) != 0)
        {
            return;
        }
        if (LauncherHandOver.UntracedByWrapper(options.StateDirectory) is { } reason)
        {
            log.Debug($"the runtime runs untraced, as the exec wrapper said: {reason}");
            return;
        }
        log.Warn($"the function's runtime did not connect to the agent by its first invocation: this environment runs without coverage ({WhyNoConnection(Environment.GetEnvironmentVariable)})");
    }

    /// <summary>The likeliest reason a runtime did not connect, from the function's environment.</summary>
    internal static string WhyNoConnection(Func<string, string?> getVariable)
    {
        foreach (var name in new[] { "DOTNET_EnableDiagnostics", "DOTNET_EnableDiagnostics_IPC", "COMPlus_EnableDiagnostics" })
        {
            if (getVariable(name)?.Trim() == "0")
            {
                return $"{name}=0 is set on the function and turns the runtime's diagnostic port off; remove it to get coverage";
            }
        }
        return "the runtime was not started through the image's ENTRYPOINT /lambda-entrypoint.sh, which connects it (through /opt/sealights/bin/exec-wrapper, or by itself for an instrumented function): keep that ENTRYPOINT";
    }

    private bool FlushIsDue() =>
        _lastFlushAfterResponse == long.MinValue
        || System.Diagnostics.Stopwatch.GetElapsedTime(_lastFlushAfterResponse) >= policy.FlushInterval;

    /// <summary>
    /// Holds next until the runtime has answered, then flushes and sends within the budget. A
    /// Telemetry API that does not deliver (no <c>platform.start</c> soon after INVOKE, or no
    /// <c>platform.runtimeDone</c> by the invocation's deadline) is given up for good, with one
    /// line, so at most one invocation ever waits for it.
    /// </summary>
    private bool FlushAfterResponse(TelemetryListener telemetry, string requestId, DateTimeOffset? deadline)
    {
        if (!WaitForResponse(telemetry, requestId, deadline))
        {
            return false;
        }
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        // A send opportunity only when the interval has passed: with probes every invocation is
        // flushed (a harvest, a few ms), but a request to the backend each time would not be.
        var send = FlushIsDue();
        if (send)
        {
            _lastFlushAfterResponse = System.Diagnostics.Stopwatch.GetTimestamp();
        }
        // A send wants this invocation's batch spooled first; otherwise the harvest is enough. The
        // first flush of a probed runtime also waits for it to be asked to harvest by itself (its
        // standing session): so the next invocation is already harvested at its own end, not half
        // by its boundary and half by a flush frozen until the one after.
        var flush = FlushAfterCurrent(() => FlushAsync(untilSpooled: send, untilArmed: source.ArmingPending));
        // Past the budget the flush goes on in the background (and, frozen, after the next thaw).
        if (flush.Wait(Clamp(policy.Budget - elapsed.Elapsed)) && send)
        {
            // This flush took the invocation's hits: the library arms its boundary only after a flush.
            _sink.Value.SendPendingAsync(Clamp(policy.Budget - elapsed.Elapsed)).Wait();
        }
        log.Debug($"post-runtime flush of {requestId}: {elapsed.Elapsed.TotalMilliseconds:0.0} ms");
        return true;
    }

    /// <summary>
    /// Waits until the runtime has answered <paramref name="requestId"/> (<c>platform.runtimeDone</c>),
    /// or until <paramref name="endedOtherwise"/> says so first. A Telemetry API that does not
    /// deliver (no <c>platform.start</c> soon after INVOKE, or no <c>platform.runtimeDone</c> by the
    /// invocation's deadline) is given up for good, with one line.
    /// </summary>
    private bool WaitForResponse(TelemetryListener telemetry, string requestId, DateTimeOffset? deadline, Task? endedOtherwise = null)
    {
        var started = telemetry.Started(requestId);
        var done = telemetry.RuntimeDone(requestId);
        var doneBy = (deadline ?? DateTimeOffset.UtcNow.AddMinutes(15)) + TimeSpan.FromSeconds(1);
        bool Either(Task report, TimeSpan limit) =>
            endedOtherwise is null ? report.Wait(limit) : Task.WaitAny([endedOtherwise, report], limit) >= 0;
        if (Either(started, TelemetryStartTimeout) && Either(done, Clamp(doneBy - DateTimeOffset.UtcNow)))
        {
            if (endedOtherwise is { IsCompleted: true })
            {
                // Its reports are not waited for (they still count when they come).
                telemetry.Forget(requestId);
            }
            return true;
        }
        telemetry.Forget(requestId);
        _telemetry = null;
        telemetry.Dispose();
        log.Warn($"the Telemetry API did not report invocation {requestId} ({(started.IsCompleted ? "no platform.runtimeDone by its deadline" : "no platform.start")}): hits are flushed at the next INVOKE from now on");
        return false;
    }

    /// <summary>
    /// A send opportunity of a runtime that harvests by itself: after the response, this invocation's
    /// own harvest (a datagram, at once; as events, with the standing session's next EventPipe pass,
    /// within ~100 ms) is waited for and spooled, then what is spooled goes out, all within the
    /// budget; a harvest that has not come by then goes with the next send.
    /// </summary>
    private void SendAfterResponse(TelemetryListener telemetry, string requestId, DateTimeOffset? deadline)
    {
        // The invocation's own harvest also says it has ended (the function takes it when its
        // runtime client asks for the next invocation, after the response). As a datagram it comes
        // within a millisecond of the response, before the Telemetry API's report (buffered, at
        // least 25 ms); as events, ~100 ms later, after it. Whichever comes first.
        if (!WaitForResponse(telemetry, requestId, deadline, endedOtherwise: source.WhenHarvested(requestId)))
        {
            return;
        }
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        _lastFlushAfterResponse = System.Diagnostics.Stopwatch.GetTimestamp();
        var withHarvest = SendWithOwnHarvest(requestId, elapsed);
        log.Debug($"post-runtime send after {requestId}: {elapsed.Elapsed.TotalMilliseconds:0.0} ms ({(withHarvest ? "with" : "without")} its harvest)");
    }

    /// <summary>Sends what is spooled, after this invocation's own harvest when the runtime harvests by itself; all within the budget.</summary>
    private bool SendWithOwnHarvest(string requestId, System.Diagnostics.Stopwatch elapsed)
    {
        var harvests = source.HarvestsAtBoundaries;
        var withHarvest = harvests
            && source.WhenHarvested(requestId).Wait(Clamp(policy.Budget - elapsed.Elapsed))
            && Delivering().Wait(Clamp(policy.Budget - elapsed.Elapsed));
        if (harvests && !withHarvest && Interlocked.Exchange(ref _harvestLateSaid, 1) == 0)
        {
            log.Info($"invocation {requestId}'s own harvest had not come {elapsed.Elapsed.TotalMilliseconds:0} ms after its response (SL_FLUSH_BUDGET_MS): its hits go with a later send; said once");
        }
        _sink.Value.SendPendingAsync(Clamp(policy.Budget - elapsed.Elapsed)).Wait();
        return withHarvest;
    }

    /// <summary>An invocation's hits, harvested by the function at its end: spooled in order, beside the next invocation.</summary>
    private void WriteHarvest(IReadOnlyList<MethodHit> hits)
    {
        lock (_flushLock)
        {
            _delivering = Then(_delivering, () => WriteHarvestAsync(hits));
        }
    }

    private async Task WriteHarvestAsync(IReadOnlyList<MethodHit> hits)
    {
        try
        {
            Interlocked.Add(ref _methodsReported, hits.Count);
            await _sink.Value.WriteAsync(hits, isFinal: false, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.Warn($"an invocation's hits could not be written, they are lost: {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Queues a flush behind the one running (flushes never overlap; each rotation sees what the last left).</summary>
    private Task FlushAfterCurrent(Func<Task> flush)
    {
        lock (_flushLock)
        {
            return _flushing = Then(_flushing, flush);
        }
    }

    private static async Task Then(Task previous, Func<Task> next)
    {
        await previous;
        await next();
    }

    /// <summary>
    /// The runtime is about to get SIGTERM (the exec wrapper holds it until this is done): rotate
    /// once more so what the last invocation ran leaves the runtime, then drop the marker.
    /// </summary>
    public void FlushBeforeRuntimeExit() => FlushAfterCurrent(FlushFinalThenMarkAsync);

    private async Task FlushFinalThenMarkAsync()
    {
        // Lambda stops the runtime only to end the environment: these are final footprints.
        await FlushAsync(isFinal: true);
        // With them the last invocation's own harvest, out of the runtime's standing session just now.
        await Delivering();
        try
        {
            await File.WriteAllTextAsync(StateFile(FlushedMarkerFileName), "");
        }
        catch (IOException e)
        {
            log.Warn($"cannot tell the exec wrapper the flush is done ({e.Message}); it forwards SIGTERM after its own wait");
        }
    }

    /// <summary>
    /// Completes once what the flush covers has left the runtime: for probes that is the harvest
    /// (the session's stop, the mapping and the spooling go on in <see cref="_delivering"/>), else
    /// the whole flush. A final flush, or one <paramref name="untilSpooled"/> (a send follows),
    /// completes only when its hits are written; one <paramref name="untilArmed"/> only when the
    /// whole flush is done, including the start of a probed runtime's standing session.
    /// </summary>
    private Task FlushAsync(bool isFinal = false, bool untilSpooled = false, bool untilArmed = false)
    {
        var harvested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var spooled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var whole = FlushAndWriteAsync(isFinal, () => harvested.TrySetResult(), () => spooled.TrySetResult());
        lock (_flushLock)
        {
            // Only what is still running is kept: the chain never grows with the environment's life.
            _delivering = _delivering.IsCompleted ? whole : Task.WhenAll(_delivering, whole);
        }
        // Runtime events: the flush is the rotation, and a post-response send wants its batch spooled.
        return isFinal || untilArmed ? whole
            : untilSpooled || !source.FlushesCheaply ? Task.WhenAny(whole, spooled.Task)
            : Task.WhenAny(whole, harvested.Task);
    }

    private async Task FlushAndWriteAsync(bool isFinal, Action harvested, Action spooled)
    {
        try
        {
            var hits = await source.FlushAsync(CancellationToken.None, runtimeExits: isFinal, harvested);
            Interlocked.Add(ref _methodsReported, hits.Count);
            if (hits.Count > 0)
            {
                await _sink.Value.WriteAsync(hits, isFinal, CancellationToken.None);
            }
            spooled();
            if (!isFinal)
            {
                // A probed runtime harvests by itself from its first flush on (arming costs it
                // 12-45 ms of CPU once: here, after a response, never in init). After the write,
                // so that its harvests are spooled after this flush's hits.
                await source.HarvestAtBoundariesFromNowOnAsync();
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.Warn($"flush failed, these hits are lost: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            spooled();
        }
    }

    private async Task ShutdownAsync(ExtensionEvent shutdown, int invocations)
    {
        var deadline = shutdown.Deadline ?? DateTimeOffset.UtcNow.AddMilliseconds(2000);
        TimeSpan Remaining() => deadline - DateTimeOffset.UtcNow - ShutdownMargin;
        log.Info($"SHUTDOWN ({shutdown.ShutdownReason ?? "no reason"}) after {invocations} invocations, {Math.Max(0, Remaining().TotalMilliseconds):0} ms to finish");
        if (invocations > 0)
        {
            // No runtime connects any more: a wait for the first connection still going on ends here.
            SayUntracedOnce();
        }

        Task flushing;
        lock (_flushLock)
        {
            flushing = Task.WhenAll(_flushing, _delivering);
        }
        using var budget = new CancellationTokenSource(Clamp(Remaining()));
        try
        {
            await flushing.WaitAsync(budget.Token);
        }
        catch (OperationCanceledException)
        {
            log.Warn("the last flush did not finish before the shutdown deadline");
        }
        var hits = await source.StopAsync(Clamp(Remaining()));
        try
        {
            // The standing session's last harvests, out with its stop.
            await Delivering().WaitAsync(budget.Token);
        }
        catch (OperationCanceledException)
        {
            log.Warn("the last invocation's hits were not written before the shutdown deadline");
        }
        var total = Interlocked.Add(ref _methodsReported, hits.Count);
        var statistics = source.Statistics;
        // One line with what coverage cost in this environment (read by the benchmarks).
        log.Info(
            $"collected {total} application methods from {statistics.RuntimesConnected} runtime process(es): "
            + $"{statistics.EventsRead} events, {statistics.BytesRead / 1024.0:0} KB, {statistics.Rotations} rotations, {statistics.EventsLost} events lost, {statistics.HarvestDatagrams} harvest datagrams; "
            + $"agent peak RSS {PeakResidentMegabytes():0.0} MB, CPU {Environment.CpuUsage.TotalTime.TotalMilliseconds:0} ms");
        if (total == 0)
        {
            // A zero is never left unexplained: the reason and its fix, in one line (the source is
            // stopped by now: IsCollecting no longer tells anything).
            log.Warn($"no coverage from this environment: {ZeroCoverageReason.Explain(options.TaskRoot, invocations, statistics.RuntimesConnected)}");
        }
        try
        {
            await _sink.Value.WriteAsync(hits, isFinal: true, budget.Token);
        }
        catch (Exception e)
        {
            log.Warn($"the final hits could not be written: {e.GetType().Name}: {e.Message}");
        }
        await source.DisposeAsync();
        // What is still spooled gets the rest of the deadline (the sink keeps its own margin).
        await _sink.Value.DrainAsync(deadline);
        await _sink.Value.DisposeAsync();
    }

    // VmHWM: the process's resident-set high-water mark, as the kernel counts it.
    private static double PeakResidentMegabytes()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            var kilobytes = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            return kilobytes is null ? double.NaN : long.Parse(kilobytes, System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return double.NaN;
        }
    }

    private Task Delivering()
    {
        lock (_flushLock)
        {
            return _delivering;
        }
    }

    private string StateFile(string name) => Path.Combine(options.StateDirectory, name);

    private static TimeSpan Clamp(TimeSpan value) => value < TimeSpan.Zero ? TimeSpan.Zero : value;
}
