using System.Threading.Channels;
using Sealights.Lambda.Emulator.Hosting;
using Sealights.Lambda.Emulator.Processes;
using Sealights.Lambda.Emulator.Telemetry;

namespace Sealights.Lambda.Emulator.Environment;

/// <summary>
/// The execution environment's state machine: lazy init, one invocation at a time, freeze
/// between invocations, reset after a failure, shutdown on SIGTERM.
/// <para>
/// Concurrency: all state lives under <see cref="_lock"/>. API handlers and the child reaper
/// only record facts (a next call, a response, an exit) and pulse <see cref="_changed"/>;
/// the single driver loop (<see cref="RunAsync"/>) makes every transition. The one thing a
/// handler decides itself is answering the caller, because that must not wait: whoever
/// answers first under the lock (response, error, failure, timeout) wins.
/// </para>
/// </summary>
internal sealed partial class ExecutionEnvironment
{
    /// <summary>Lambda's limit for a synchronous response (and request) payload.</summary>
    public const int MaxPayloadBytes = 6 * 1024 * 1024;

    private static readonly TimeSpan ShutdownBudget = TimeSpan.FromMilliseconds(2000);
    private static readonly TimeSpan RuntimeSigtermGrace = TimeSpan.FromMilliseconds(300);

    private readonly object _lock = new();
    private readonly AsyncSignal _changed = new();
    // Not SingleReader: the idle driver loop may leave a WaitToReadAsync pending when a pulse wakes it first.
    private readonly Channel<InvokeRequest> _queue = Channel.CreateUnbounded<InvokeRequest>();
    private readonly EmulatorOptions _options;
    private readonly FunctionConfiguration _function;
    private readonly ProcessSupervisor _supervisor;
    private readonly TelemetryDispatcher _telemetry;
    private readonly PlatformEvents _events;
    private readonly ReportWriter _report;
    private readonly EmulatorLog _log;
    private readonly string _workingDirectory;

    private string _runtimeApi = "";
    private int _generation;
    private Sandbox? _sandbox;
    private Invocation? _current;
    private InvokeRequest? _initiator;
    private EnvironmentFailure? _failure;
    private bool _frozen;
    private bool _shutdownRequested;
    private long _shutdownEpochMs;
    private long _shutdownTimestamp;

    public ExecutionEnvironment(
        EmulatorOptions options,
        FunctionConfiguration function,
        ProcessSupervisor supervisor,
        TelemetryDispatcher telemetry,
        EmulatorLog log)
    {
        _options = options;
        _function = function;
        _supervisor = supervisor;
        _telemetry = telemetry;
        _log = log;
        _events = new PlatformEvents(telemetry, function);
        _report = new ReportWriter(log, function.Version);
        _workingDirectory = Directory.Exists("/var/task") ? "/var/task" : System.Environment.CurrentDirectory;
    }

    private enum WaitOutcome
    {
        Satisfied,
        Failed,
        TimedOut,
        ShuttingDown,
    }

    public FunctionConfiguration Function => _function;

    /// <summary>The Runtime API as the children reach it (AWS_LAMBDA_RUNTIME_API), known once it listens.</summary>
    public void SetRuntimeApiAuthority(string authority) => _runtimeApi = authority;

    /// <summary>Queues an invoke; completes when the caller has its answer.</summary>
    public Task<InvokeResult> InvokeAsync(InvokeRequest request)
    {
        lock (_lock)
        {
            if (_shutdownRequested || !_queue.Writer.TryWrite(request))
            {
                return Task.FromResult(ShuttingDownResult(request.RequestId, queued: true));
            }
        }
        return request.Result;
    }

    /// <summary>SIGTERM/SIGINT: the driver stops what it does and shuts the environment down.</summary>
    public void RequestShutdown()
    {
        lock (_lock)
        {
            if (_shutdownRequested)
            {
                return;
            }
            _shutdownRequested = true;
            _shutdownEpochMs = Clock.EpochMs;
            _shutdownTimestamp = Clock.Now;
            _changed.Pulse();
        }
    }

    /// <summary>The driver: serves queued invokes one by one until shutdown, then shuts down.</summary>
    public async Task RunAsync()
    {
        while (true)
        {
            Task changed;
            bool brokenWhileIdle;
            lock (_lock)
            {
                if (_shutdownRequested)
                {
                    break;
                }
                brokenWhileIdle = _failure is not null && _sandbox is not null;
                changed = _changed.Next;
            }
            if (brokenWhileIdle)
            {
                await ResetAfterIdleFailureAsync().ConfigureAwait(false);
                continue;
            }
            if (_queue.Reader.TryRead(out var request))
            {
                await HandleInvokeAsync(request).ConfigureAwait(false);
                continue;
            }
            await Task.WhenAny(changed, _queue.Reader.WaitToReadAsync().AsTask()).ConfigureAwait(false);
        }
        await ShutdownAsync().ConfigureAwait(false);
    }

    private async Task HandleInvokeAsync(InvokeRequest request)
    {
        // RIE prints START before the lazy init, so the init's output follows it.
        _report.Start(request.RequestId);
        double? initDurationMs = null;
        bool needsInit;
        lock (_lock)
        {
            needsInit = _sandbox is null;
        }
        if (needsInit)
        {
            var (outcome, durationMs) = await InitializeAsync(request).ConfigureAwait(false);
            initDurationMs = durationMs;
            if (outcome == WaitOutcome.ShuttingDown)
            {
                return;
            }
            if (outcome != WaitOutcome.Satisfied)
            {
                await FinishFailedInitAsync(request, durationMs).ConfigureAwait(false);
                return;
            }
        }
        await InvokeCoreAsync(request, initDurationMs).ConfigureAwait(false);
    }

    /// <summary>
    /// Init: extensions start in parallel; the runtime starts once all of them registered;
    /// init ends when the runtime and every extension wait in next. One shared time limit.
    /// </summary>
    private async Task<(WaitOutcome Outcome, double DurationMs)> InitializeAsync(InvokeRequest request)
    {
        var start = Clock.Now;
        var deadline = Clock.After(start, _options.InitTimeout);
        Sandbox sandbox;
        lock (_lock)
        {
            sandbox = new Sandbox(++_generation, start);
            _sandbox = sandbox;
            _initiator = request;
            _failure = null;
        }
        _log.Debug($"init #{sandbox.Generation} for {request.RequestId}");
        _events.InitStart();

        StartExtensions(sandbox, request.RequestId);
        var outcome = await WaitForAsync(() => sandbox.AllExtensionProcessesRegistered, deadline).ConfigureAwait(false);
        if (outcome == WaitOutcome.Satisfied)
        {
            StartRuntime(sandbox, request.RequestId);
            outcome = await WaitForAsync(
                () => sandbox.RuntimeNext.IsWaiting && sandbox.Agents.All(a => a.Next.IsWaiting),
                deadline).ConfigureAwait(false);
        }
        var durationMs = Clock.Milliseconds(start, Clock.Now);
        if (outcome == WaitOutcome.TimedOut)
        {
            lock (_lock)
            {
                Fail(EnvironmentFailure.Create("Sandbox.Timedout",
                    TimedOutMessage(request.RequestId, _options.InitTimeout.TotalSeconds), "timeout", "timeout", duringInit: true));
            }
            outcome = WaitOutcome.Failed;
        }

        if (outcome == WaitOutcome.Satisfied)
        {
            lock (_lock)
            {
                sandbox.InitCompleted = true;
                _initiator = null;
            }
            SampleMemory(sandbox);
            _events.InitRuntimeDone("success", null);
            _events.InitReport("success", null, durationMs);
            _log.Debug($"init #{sandbox.Generation} done in {durationMs:F2} ms: {sandbox.Agents.Count} extension(s)");
        }
        else if (outcome == WaitOutcome.Failed && CurrentFailure() is { } failure)
        {
            _events.InitRuntimeDone(failure.TelemetryStatus, failure.ErrorType);
            _events.InitReport(failure.TelemetryStatus, failure.ErrorType, durationMs);
        }
        return (outcome, durationMs);
    }

    private void StartExtensions(Sandbox sandbox, string requestId)
    {
        var environment = _function.ExtensionEnvironment(_runtimeApi);
        foreach (var path in ExtensionDiscovery.Find(_options.ExtensionsDirectory))
        {
            var extension = new ExtensionProcess(Path.GetFileName(path), path);
            lock (_lock)
            {
                sandbox.ExtensionProcesses.Add(extension);
            }
            try
            {
                var process = _supervisor.Spawn(
                    new ProcessSpec(extension.Name, path, [path], environment, _workingDirectory),
                    (_, status) => OnExtensionExited(sandbox, extension, status));
                lock (_lock)
                {
                    extension.Process = process;
                }
            }
            catch (SpawnException e)
            {
                lock (_lock)
                {
                    sandbox.ExtensionProcesses.Remove(extension);
                    Fail(EnvironmentFailure.Create("Extension.LaunchError",
                        $"RequestId: {requestId} Error: fork/exec {e.Message}", "failure", "failure", duringInit: true));
                }
                return;
            }
        }
    }

    private void StartRuntime(Sandbox sandbox, string requestId)
    {
        if (_options.BootstrapPath is not { } bootstrap || !File.Exists(bootstrap))
        {
            var tried = _options.BootstrapPath is { } given ? [given] : EmulatorOptions.BootstrapCandidates;
            lock (_lock)
            {
                Fail(EnvironmentFailure.Create("Runtime.InvalidEntrypoint",
                    $"RequestId: {requestId} Error: Couldn't find valid bootstrap(s): [{string.Join(' ', tried)}]", "failure", "failure", duringInit: true));
            }
            return;
        }
        try
        {
            var process = _supervisor.Spawn(
                new ProcessSpec("runtime", bootstrap, [bootstrap, .. _options.BootstrapArguments], _function.RuntimeEnvironment(_runtimeApi), _workingDirectory),
                (_, status) => OnRuntimeExited(sandbox, status));
            lock (_lock)
            {
                sandbox.Runtime = process;
            }
        }
        catch (SpawnException e)
        {
            lock (_lock)
            {
                Fail(EnvironmentFailure.Create("Runtime.InvalidEntrypoint",
                    $"RequestId: {requestId} Error: fork/exec {e.Message}", "failure", "failure", duringInit: true));
            }
        }
    }

    /// <summary>Dispatches the invoke to the runtime and the INVOKE subscribers and waits until all called next again.</summary>
    private async Task InvokeCoreAsync(InvokeRequest request, double? initDurationMs)
    {
        Thaw();
        Sandbox sandbox;
        Invocation invocation;
        lock (_lock)
        {
            sandbox = _sandbox!;
            var now = Clock.Now;
            invocation = new Invocation(request, initDurationMs, now,
                Clock.After(now, TimeSpan.FromSeconds(_function.TimeoutSeconds)),
                Clock.EpochMs + (_function.TimeoutSeconds * 1000L));
            _current = invocation;
            if (_failure is { } failure)
            {
                // The environment broke between init and dispatch.
                request.TryAnswer(InvokeResult.Unhandled(failure.CallerBody));
            }
            else
            {
                sandbox.RuntimeNext.Deliver(invocation);
                var invokeEvent = ExtensionEvents.Invoke(invocation, _function.InvokedFunctionArn);
                foreach (var agent in sandbox.InvokeSubscribers)
                {
                    agent.Next.Deliver(invokeEvent);
                }
            }
        }
        _events.Start(request.RequestId, request.TraceId);

        var outcome = await WaitForAsync(
            () => invocation.RuntimeDone && sandbox.RuntimeNext.IsWaiting && sandbox.InvokeSubscribers.All(a => a.Next.IsWaiting),
            invocation.DeadlineTimestamp).ConfigureAwait(false);
        if (outcome == WaitOutcome.TimedOut)
        {
            lock (_lock)
            {
                Fail(EnvironmentFailure.Create("Sandbox.Timedout",
                    TimedOutMessage(request.RequestId, _function.TimeoutSeconds), "timeout", "timeout", duringInit: false));
            }
            outcome = WaitOutcome.Failed;
        }
        switch (outcome)
        {
            case WaitOutcome.Satisfied:
                CompleteInvocation(sandbox, invocation);
                break;
            case WaitOutcome.Failed:
                await FailInvocationAsync(sandbox, invocation).ConfigureAwait(false);
                break;
            case WaitOutcome.ShuttingDown:
                break;
        }
    }

    private void CompleteInvocation(Sandbox sandbox, Invocation invocation)
    {
        var peakKb = SampleMemory(sandbox);
        double durationMs;
        double postRuntimeMs;
        lock (_lock)
        {
            var responded = invocation.RuntimeDoneTimestamp ?? invocation.DispatchTimestamp;
            durationMs = Clock.Milliseconds(invocation.DispatchTimestamp, responded);
            var lastExtensionNext = sandbox.InvokeSubscribers.Select(a => a.Next.LastCallTimestamp).DefaultIfEmpty(responded).Max();
            postRuntimeMs = Math.Max(0, Clock.Milliseconds(responded, lastExtensionNext));
            _current = null;
        }
        var report = new InvocationReport(invocation.RequestId, invocation.InitDurationMs, durationMs, _function.MemorySizeMb,
            ToMegabytes(peakKb), postRuntimeMs, "success", null);
        _report.End(invocation.RequestId);
        _report.Report(report);
        if (_options.Freeze)
        {
            // Frozen for telemetry before the report is queued: the environment freezes at this
            // very moment on Lambda, and a delivery timer firing between the two (a loaded
            // machine) sent this report while it should wait for the thaw.
            _telemetry.SetFrozen(true);
        }
        _events.Report(report, invocation.RuntimeStatus, invocation.ErrorType, invocation.Request.TraceId);
        Freeze();
    }

    private async Task FailInvocationAsync(Sandbox sandbox, Invocation invocation)
    {
        EnvironmentFailure failure;
        bool runtimeDone;
        lock (_lock)
        {
            failure = _failure!;
            runtimeDone = invocation.RuntimeDone;
            _current = null;
        }
        PrintFailure(failure);
        var end = invocation.RuntimeDoneTimestamp ?? failure.Timestamp;
        var durationMs = Math.Max(0, Clock.Milliseconds(invocation.DispatchTimestamp, end));
        if (!runtimeDone)
        {
            _events.RuntimeDone(invocation.RequestId, failure.TelemetryStatus, failure.ErrorType, durationMs, 0, invocation.Request.TraceId);
        }
        var report = new InvocationReport(invocation.RequestId, invocation.InitDurationMs, durationMs, _function.MemorySizeMb,
            ToMegabytes(SampleMemory(sandbox)), 0, ReportStatus(failure), ReportErrorType(failure));
        _report.End(invocation.RequestId);
        _report.Report(report);
        _events.Report(report, failure.TelemetryStatus, failure.ErrorType, invocation.Request.TraceId);
        await ResetAsync().ConfigureAwait(false);
    }

    private async Task FinishFailedInitAsync(InvokeRequest request, double initDurationMs)
    {
        var failure = CurrentFailure()!;
        PrintFailure(failure);
        _report.InitReport(initDurationMs, ReportStatus(failure), ReportErrorType(failure));
        var peakKb = _sandbox is { } sandbox ? SampleMemory(sandbox) : 0;
        var report = new InvocationReport(request.RequestId, initDurationMs, 0, _function.MemorySizeMb,
            ToMegabytes(peakKb), 0, ReportStatus(failure), ReportErrorType(failure));
        _report.End(request.RequestId);
        _report.Report(report);
        _events.Report(report, failure.TelemetryStatus, failure.ErrorType, request.TraceId);
        await ResetAsync().ConfigureAwait(false);
    }

    /// <summary>The environment broke between invocations (e.g. a process was killed from outside).</summary>
    private async Task ResetAfterIdleFailureAsync()
    {
        PrintFailure(CurrentFailure()!);
        await ResetAsync().ConfigureAwait(false);
    }

    /// <summary>Tears the environment down (SHUTDOWN with the failure's reason); the next invoke re-inits.</summary>
    private async Task ResetAsync()
    {
        Sandbox? sandbox;
        string reason;
        lock (_lock)
        {
            sandbox = _sandbox;
            reason = _failure?.ShutdownReason ?? "failure";
            if (sandbox is not null)
            {
                sandbox.Retired = true;
            }
        }
        if (sandbox is not null)
        {
            var summary = await TeardownAsync(sandbox, reason, Clock.EpochMs + (long)ShutdownBudget.TotalMilliseconds,
                Clock.After(Clock.Now, ShutdownBudget), runtimeGrace: TimeSpan.Zero).ConfigureAwait(false);
            _log.Info($"environment reset ({reason}): {summary}");
        }
        lock (_lock)
        {
            _sandbox = null;
            _failure = null;
            _current = null;
            _initiator = null;
        }
        _telemetry.EndEnvironment();
    }

    /// <summary>SIGTERM: runtime first (SIGTERM to it or to its process group, 300 ms, SIGKILL), then SHUTDOWN to the extensions, deadline arrival + 2 s.</summary>
    private async Task ShutdownAsync()
    {
        Sandbox? sandbox;
        Invocation? interrupted;
        InvokeRequest? interruptedInit;
        lock (_lock)
        {
            sandbox = _sandbox;
            interrupted = _current;
            interruptedInit = _initiator;
            if (sandbox is not null)
            {
                sandbox.Retired = true;
            }
            if (_current?.Request is { } current)
            {
                current.TryAnswer(ShuttingDownResult(current.RequestId, queued: false));
            }
            if (_initiator is { } initiator)
            {
                initiator.TryAnswer(ShuttingDownResult(initiator.RequestId, queued: false));
            }
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var queued))
            {
                queued.TryAnswer(ShuttingDownResult(queued.RequestId, queued: true));
            }
        }
        if (sandbox is not null && interrupted is not null)
        {
            ReportInterruptedInvocation(sandbox, interrupted);
        }
        else if (sandbox is not null && interruptedInit is not null)
        {
            ReportInterruptedInit(sandbox, interruptedInit);
        }
        if (sandbox is null)
        {
            _log.Info("shutdown (spindown): no environment was running");
        }
        else
        {
            var summary = await TeardownAsync(sandbox, "spindown", _shutdownEpochMs + (long)ShutdownBudget.TotalMilliseconds,
                Clock.After(_shutdownTimestamp, ShutdownBudget), RuntimeSigtermGrace).ConfigureAwait(false);
            _log.Info($"shutdown (spindown): {summary}");
        }
        _telemetry.EndEnvironment();
    }

    /// <summary>
    /// SIGTERM came during an invoke: it still gets its END and REPORT (every START has them).
    /// If the runtime had answered, the extensions' unfinished work counts up to the signal.
    /// </summary>
    private void ReportInterruptedInvocation(Sandbox sandbox, Invocation invocation)
    {
        var responded = invocation.RuntimeDoneTimestamp;
        var durationMs = Math.Max(0, Clock.Milliseconds(invocation.DispatchTimestamp, responded ?? _shutdownTimestamp));
        var postRuntimeMs = responded is { } r ? Math.Max(0, Clock.Milliseconds(r, _shutdownTimestamp)) : 0;
        var status = responded is null ? "error" : "success";
        var errorType = responded is null ? "Sandbox.ShuttingDown" : null;
        var report = new InvocationReport(invocation.RequestId, invocation.InitDurationMs, durationMs, _function.MemorySizeMb,
            ToMegabytes(SampleMemory(sandbox)), postRuntimeMs, status, errorType);
        _report.End(invocation.RequestId);
        _report.Report(report);
        _events.Report(report, responded is null ? "failure" : invocation.RuntimeStatus, errorType ?? invocation.ErrorType, invocation.Request.TraceId);
    }

    /// <summary>SIGTERM came during a lazy init: INIT_REPORT, END and REPORT for the invoke that waited for it.</summary>
    private void ReportInterruptedInit(Sandbox sandbox, InvokeRequest request)
    {
        var initDurationMs = Math.Max(0, Clock.Milliseconds(sandbox.InitStartTimestamp, _shutdownTimestamp));
        _report.InitReport(initDurationMs, "error", "Sandbox.ShuttingDown");
        var report = new InvocationReport(request.RequestId, initDurationMs, 0, _function.MemorySizeMb,
            ToMegabytes(SampleMemory(sandbox)), 0, "error", "Sandbox.ShuttingDown");
        _report.End(request.RequestId);
        _report.Report(report);
        _events.Report(report, "failure", "Sandbox.ShuttingDown", request.TraceId);
    }

    /// <summary>
    /// Stops every process of <paramref name="sandbox"/>: the runtime (SIGTERM and a grace, or
    /// SIGKILL at once), SHUTDOWN to the extensions that asked for it (SIGKILL for the others),
    /// then SIGKILL at the deadline for what is left, orphans included.
    /// </summary>
    private async Task<TeardownSummary> TeardownAsync(Sandbox sandbox, string reason, long deadlineEpochMs, long deadline, TimeSpan runtimeGrace)
    {
        Thaw(force: true);
        var runtime = "not started";
        if (sandbox.Runtime is { } process)
        {
            if (process.HasExited)
            {
                runtime = $"had exited ({process.Exited.Result})";
            }
            else if (runtimeGrace > TimeSpan.Zero)
            {
                if (_options.SigtermRuntimeGroup)
                {
                    process.SignalGroup(Native.LibC.SIGTERM);
                }
                else
                {
                    process.Signal(Native.LibC.SIGTERM);
                }
                if (await process.WaitForExitAsync(runtimeGrace).ConfigureAwait(false))
                {
                    runtime = $"exited on SIGTERM ({process.Exited.Result})";
                }
                else
                {
                    ProcessTree.KillTree(process.Pid);
                    runtime = $"killed after {runtimeGrace.TotalMilliseconds:F0} ms";
                }
            }
            else
            {
                ProcessTree.KillTree(process.Pid);
                runtime = "killed";
            }
        }

        var notified = new List<ExtensionProcess>();
        var notSubscribed = new List<ExtensionProcess>();
        lock (_lock)
        {
            var shutdownEvent = ExtensionEvents.Shutdown(reason, deadlineEpochMs);
            foreach (var extension in sandbox.ExtensionProcesses)
            {
                if (extension.Process is not { HasExited: false })
                {
                    continue;
                }
                if (extension.Agent is { SubscribedToShutdown: true } agent)
                {
                    agent.ShutdownSent = true;
                    agent.Next.ClearQueued();
                    agent.Next.Deliver(shutdownEvent);
                    notified.Add(extension);
                }
                else
                {
                    notSubscribed.Add(extension);
                }
            }
        }
        foreach (var extension in notSubscribed)
        {
            ProcessTree.KillTree(extension.Process!.Pid);
        }
        var remaining = Clock.Until(deadline);
        if (notified.Count > 0 && remaining > TimeSpan.Zero)
        {
            await Task.WhenAny(Task.WhenAll(notified.Select(e => e.Process!.Exited)), Task.Delay(remaining)).ConfigureAwait(false);
        }
        var exited = notified.Where(e => e.Process!.HasExited).Select(e => e.Name).ToList();
        var killed = notified.Where(e => !e.Process!.HasExited).ToList();
        foreach (var extension in killed)
        {
            ProcessTree.KillTree(extension.Process!.Pid);
        }
        ProcessTree.KillAll();
        lock (_lock)
        {
            sandbox.RuntimeNext.Cancel();
            foreach (var agent in sandbox.Agents)
            {
                agent.Next.Cancel();
            }
        }
        return new TeardownSummary(runtime, exited,
            [.. killed.Select(e => $"{e.Name} (deadline)"), .. notSubscribed.Select(e => $"{e.Name} (no SHUTDOWN subscription)")]);
    }

    private async Task<WaitOutcome> WaitForAsync(Func<bool> condition, long deadline)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_shutdownRequested)
                {
                    return WaitOutcome.ShuttingDown;
                }
                if (_failure is not null)
                {
                    return WaitOutcome.Failed;
                }
                if (condition())
                {
                    return WaitOutcome.Satisfied;
                }
                changed = _changed.Next;
            }
            var remaining = Clock.Until(deadline);
            if (remaining == TimeSpan.Zero)
            {
                return WaitOutcome.TimedOut;
            }
            using var cancelDelay = new CancellationTokenSource();
            var delay = Task.Delay(remaining, cancelDelay.Token);
            if (await Task.WhenAny(changed, delay).ConfigureAwait(false) == changed)
            {
                cancelDelay.Cancel();
            }
        }
    }

    /// <summary>Records the failure (the first one wins) and answers the waiting caller with it. Under the lock.</summary>
    private bool Fail(EnvironmentFailure failure)
    {
        if (_failure is not null || _sandbox is null || _sandbox.Retired)
        {
            return false;
        }
        _failure = failure;
        var waiting = _current?.Request ?? _initiator;
        waiting?.TryAnswer(InvokeResult.Unhandled(failure.CallerBody));
        _changed.Pulse();
        return true;
    }

    private EnvironmentFailure? CurrentFailure()
    {
        lock (_lock)
        {
            return _failure;
        }
    }

    private string? CurrentRequestId => _current?.RequestId ?? _initiator?.RequestId;

    private void PrintFailure(EnvironmentFailure failure)
    {
        foreach (var line in failure.LogLines())
        {
            _log.Platform(line);
        }
    }

    /// <summary>Lambda's REPORT says "Status: timeout", or "Status: error" with the error type.</summary>
    private static string ReportStatus(EnvironmentFailure failure) => failure.TelemetryStatus == "timeout" ? "timeout" : "error";

    private static string? ReportErrorType(EnvironmentFailure failure) => failure.TelemetryStatus == "timeout" ? null : failure.ErrorType;

    private static string TimedOutMessage(string requestId, double seconds) =>
        FormattableString.Invariant($"{Clock.Rfc3339(DateTime.UtcNow)} {requestId} Task timed out after {seconds:F2} seconds");

    private static InvokeResult ShuttingDownResult(string requestId, bool queued) => queued
        ? InvokeResult.Service(503, "Sandbox.ShuttingDown", "The execution environment is shutting down")
        : InvokeResult.Unhandled("Sandbox.ShuttingDown", $"RequestId: {requestId} Error: the execution environment was shut down (SIGTERM) before the invocation completed");

    /// <summary>Samples the environment's memory (sum of VmHWM) and keeps the highest value seen.</summary>
    private long SampleMemory(Sandbox sandbox)
    {
        var sample = ProcessTree.SumPeakResidentKb();
        lock (_lock)
        {
            sandbox.PeakMemoryKb = Math.Max(sandbox.PeakMemoryKb, sample);
            return sandbox.PeakMemoryKb;
        }
    }

    private static long ToMegabytes(long kilobytes) => (kilobytes + 1023) / 1024;

    /// <summary>Freezes the environment (SIGSTOP to every process) once everything called next.</summary>
    private void Freeze()
    {
        if (!_options.Freeze)
        {
            return;
        }
        _telemetry.SetFrozen(true);
        var count = ProcessTree.FreezeAll();
        _frozen = true;
        _log.Debug($"froze {count} process(es)");
    }

    private void Thaw(bool force = false)
    {
        if (_frozen || (force && _options.Freeze))
        {
            ProcessTree.ThawAll();
            _frozen = false;
        }
        _telemetry.SetFrozen(false);
    }

    private sealed record TeardownSummary(string Runtime, IReadOnlyList<string> ExitedExtensions, IReadOnlyList<string> KilledExtensions)
    {
        public override string ToString() =>
            $"runtime {Runtime}; extensions exited by themselves: [{string.Join(", ", ExitedExtensions)}]; killed: [{string.Join(", ", KilledExtensions)}]";
    }
}
