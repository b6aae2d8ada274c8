using Sealights.Lambda.Agent.Configuration;
using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>
/// The extension's lifecycle: listen for the runtime, register, then turn INVOKE and SHUTDOWN
/// events into flushes of method hits. Nothing here runs on the function's critical path: at
/// INVOKE the flush runs in the background and the agent calls next at once, so it never holds
/// the environment's freeze; at SHUTDOWN it spends at most the deadline minus a margin.
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
    MethodHitCollector source,
    IMethodHitSink sink,
    StartupTimeline startup)
{
    /// <summary>Left of SHUTDOWN's deadline for writing the last hits and exiting before SIGKILL.</summary>
    public static readonly TimeSpan ShutdownMargin = TimeSpan.FromMilliseconds(250);

    public const string IdentifierFileName = "extension-id";

    /// <summary>The agent's pid, for the exec wrapper's flush request (SIGUSR1).</summary>
    public const string PidFileName = "agent.pid";

    /// <summary>Created when the flush the exec wrapper asked for is done.</summary>
    public const string FlushedMarkerFileName = "flushed";

    private readonly object _flushLock = new();
    private Task _flushing = Task.CompletedTask;
    private int _methodsReported;

    /// <summary>
    /// The extension's event loop, on the calling thread (the agent's main thread, which has
    /// nothing else to do): register, then wait in next until SHUTDOWN. Flushes run in the
    /// background; this thread only starts them.
    /// </summary>
    public int Run()
    {
        // Files left by an earlier environment in the same /tmp must never be taken for ours.
        var identifierFile = StateFile(IdentifierFileName);
        File.Delete(identifierFile);
        File.Delete(StateFile(FlushedMarkerFileName));
        // Registering is the last step of the agent's part of every cold start: Lambda starts
        // the runtime once every extension registered. So nothing else comes before it.
        var identifier = api.Register(extensionName, ["INVOKE", "SHUTDOWN"]);
        startup.Registered();
        source.StartCollecting();
        // The launcher continues with this identifier if the agent process dies.
        File.WriteAllText(identifierFile, identifier);
        File.WriteAllText(StateFile(PidFileName), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        log.Info($"registered as {extensionName} ({startup.Describe()}); collecting method hits from the function's .NET runtime");

        var invocations = 0;
        while (true)
        {
            var next = api.Next();
            switch (next.Type)
            {
                case ExtensionEventType.Invoke:
                    invocations++;
                    lock (_flushLock)
                    {
                        if (_flushing.IsCompleted)
                        {
                            _flushing = FlushAsync(CancellationToken.None);
                        }
                        else
                        {
                            // A rotation is still running (e.g. frozen mid-way); this invocation's hits come with the next one.
                            log.Debug($"INVOKE {next.RequestId}: previous flush still running");
                        }
                    }
                    break;
                case ExtensionEventType.Shutdown:
                    // Waiting on this thread is safe: it has no synchronization context.
                    ShutdownAsync(next, invocations).GetAwaiter().GetResult();
                    return AgentExitCodes.ShutdownComplete;
                default:
                    log.Warn($"ignoring an event the agent does not understand: {next.Problem}");
                    break;
            }
        }
    }

    /// <summary>
    /// The runtime is about to get SIGTERM (the exec wrapper holds it until this is done): rotate
    /// once more so what the last invocation ran leaves the runtime, then drop the marker.
    /// </summary>
    public void FlushBeforeRuntimeExit()
    {
        lock (_flushLock)
        {
            var previous = _flushing;
            _flushing = FlushThenMarkAsync(previous);
        }
    }

    private async Task FlushThenMarkAsync(Task previous)
    {
        await previous;
        await FlushAsync(CancellationToken.None);
        try
        {
            await File.WriteAllTextAsync(StateFile(FlushedMarkerFileName), "");
        }
        catch (IOException e)
        {
            log.Warn($"cannot tell the exec wrapper the flush is done ({e.Message}); it forwards SIGTERM after its own wait");
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            var hits = await source.FlushAsync(cancellationToken);
            Interlocked.Add(ref _methodsReported, hits.Count);
            if (hits.Count > 0)
            {
                await sink.WriteAsync(hits, isFinal: false, cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.Warn($"flush failed, these hits are lost: {e.GetType().Name}: {e.Message}");
        }
    }

    private async Task ShutdownAsync(ExtensionEvent shutdown, int invocations)
    {
        var deadline = shutdown.Deadline ?? DateTimeOffset.UtcNow.AddMilliseconds(2000);
        TimeSpan Remaining() => deadline - DateTimeOffset.UtcNow - ShutdownMargin;
        log.Info($"SHUTDOWN ({shutdown.ShutdownReason ?? "no reason"}) after {invocations} invocations, {Math.Max(0, Remaining().TotalMilliseconds):0} ms to finish");

        Task flushing;
        lock (_flushLock)
        {
            flushing = _flushing;
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
        var total = Interlocked.Add(ref _methodsReported, hits.Count);
        var statistics = source.Statistics;
        // One line with what coverage cost in this environment (read by the benchmarks).
        log.Info(
            $"collected {total} application methods from {statistics.RuntimesConnected} runtime process(es): "
            + $"{statistics.EventsRead} events, {statistics.BytesRead / 1024.0:0} KB, {statistics.Rotations} rotations, {statistics.EventsLost} events lost; "
            + $"agent peak RSS {PeakResidentMegabytes():0.0} MB");
        try
        {
            await sink.WriteAsync(hits, isFinal: true, budget.Token);
        }
        catch (Exception e)
        {
            log.Warn($"the final hits could not be written: {e.GetType().Name}: {e.Message}");
        }
        await source.DisposeAsync();
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

    private string StateFile(string name) => Path.Combine(options.StateDirectory, name);

    private static TimeSpan Clamp(TimeSpan value) => value < TimeSpan.Zero ? TimeSpan.Zero : value;
}
