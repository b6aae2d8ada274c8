using Sealights.Lambda.Agent.Configuration;
using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>
/// The extension's lifecycle: listen for the runtime, register, then turn INVOKE and SHUTDOWN
/// events into flushes of method hits. Nothing here runs on the function's critical path: at
/// INVOKE the flush runs in the background and the agent calls next at once, so it never holds
/// the environment's freeze; at SHUTDOWN it spends at most the deadline minus a margin.
/// </summary>
public sealed class AgentHost(
    AgentOptions options,
    AgentLog log,
    ExtensionsApiClient api,
    string extensionName,
    MethodHitCollector source,
    IMethodHitSink sink)
{
    /// <summary>Left of SHUTDOWN's deadline for writing the last hits and exiting before SIGKILL.</summary>
    public static readonly TimeSpan ShutdownMargin = TimeSpan.FromMilliseconds(250);

    public const string IdentifierFileName = "extension-id";

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        // A file left by an earlier environment in the same /tmp must never be taken for ours.
        var identifierFile = Path.Combine(options.StateDirectory, IdentifierFileName);
        File.Delete(identifierFile);
        var identifier = await api.RegisterAsync(extensionName, ["INVOKE", "SHUTDOWN"], cancellationToken);
        // The launcher continues with this identifier if the agent process dies.
        await File.WriteAllTextAsync(identifierFile, identifier, cancellationToken);
        log.Info($"registered as {extensionName}; collecting method hits from the function's .NET runtime");

        Task flushing = Task.CompletedTask;
        var invocations = 0;
        while (true)
        {
            var next = await api.NextAsync(cancellationToken);
            switch (next.Type)
            {
                case ExtensionEventType.Invoke:
                    invocations++;
                    if (flushing.IsCompleted)
                    {
                        flushing = FlushAsync(cancellationToken);
                    }
                    else
                    {
                        // The previous rotation is still running (e.g. frozen mid-way); its hits come out with the next one.
                        log.Debug($"INVOKE {next.RequestId}: previous flush still running");
                    }
                    break;
                case ExtensionEventType.Shutdown:
                    await ShutdownAsync(next, flushing, invocations);
                    return AgentExitCodes.ShutdownComplete;
                default:
                    log.Warn($"ignoring an event the agent does not understand: {next.Problem}");
                    break;
            }
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            var hits = await source.FlushAsync(cancellationToken);
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

    private async Task ShutdownAsync(ExtensionEvent shutdown, Task flushing, int invocations)
    {
        var deadline = shutdown.Deadline ?? DateTimeOffset.UtcNow.AddMilliseconds(2000);
        TimeSpan Remaining() => deadline - DateTimeOffset.UtcNow - ShutdownMargin;
        log.Info($"SHUTDOWN ({shutdown.ShutdownReason ?? "no reason"}) after {invocations} invocations, {Math.Max(0, Remaining().TotalMilliseconds):0} ms to finish");

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
            await sink.WriteAsync(hits, isFinal: true, budget.Token);
        }
        catch (Exception e)
        {
            log.Warn($"the final hits could not be written: {e.GetType().Name}: {e.Message}");
        }
        await source.DisposeAsync();
    }

    private static TimeSpan Clamp(TimeSpan value) => value < TimeSpan.Zero ? TimeSpan.Zero : value;
}
