using System.Runtime.InteropServices;
using Sealights.Lambda.Agent.Configuration;
using Sealights.Lambda.Agent.Delivery;
using Sealights.Lambda.Agent.Lifecycle;
using Sealights.Lambda.Agent.MethodHits;

// The Sealights Lambda extension. Started by its launcher (/opt/extensions/sealights-agent),
// which stays alive whatever happens here: see AgentExitCodes. Every fault ends in "no coverage"
// with one log line, never in a failed invocation.
var startup = StartupTimeline.FromArguments(args);
// The runtime's own threads (its finalizer spins 10 ms calibrating spin-waits) get only idle CPU
// while this thread races to its verdict, listening and registration. A failure here fails again,
// and is logged, when the agent lowers itself once registered (AgentHost).
CpuPriority.LowerOtherThreads(CpuPriority.Idle);
var extensionName = ExtensionName(args);
var registeredByLauncher = args.Contains(LauncherHandOver.Switch);
var options = AgentOptions.FromEnvironment(Environment.GetEnvironmentVariable);
var log = new AgentLog(options.LogLevel);

if (!options.Enabled)
{
    log.Info($"inactive ({options.DisabledReason}); the function runs without coverage");
    return AgentExitCodes.Inert;
}
var runtimeApi = Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API");
if (string.IsNullOrWhiteSpace(runtimeApi))
{
    log.Error("AWS_LAMBDA_RUNTIME_API is not set: not running as a Lambda extension; coverage is off");
    return AgentExitCodes.Inert;
}

// Where the hits go is settled before anything listens: without a place to send them (no bsid,
// nowhere to send, as DeliveryOptions logs) the agent has no reason to cost the function anything.
// Local mode (no token, SL_DEBUG_HITS_FILE set): nothing is sent, so there is nothing to settle.
var delivery = options.Token is null ? null : DeliveryOptions.TryCreate(Environment.GetEnvironmentVariable, options.TaskRoot, options.Token, log.Warn);
if (options.LocalOnly)
{
    log.Info($"local mode (no token): method hits go to SL_DEBUG_HITS_FILE {options.HitsDumpFile} only, each invocation's right after its response; nothing is sent to Sealights");
}
if (delivery is null && options.HitsDumpFile is null)
{
    log.Info("inactive (footprints cannot be delivered, see above); the function runs without coverage");
    return AgentExitCodes.Inert;
}

MethodHitCollector? collector = null;
try
{
    if (registeredByLauncher)
    {
        LauncherHandOver.AnnounceCollecting(options.StateDirectory);
    }
    // Listen before registering (when the agent registers itself): Lambda starts the runtime only
    // after every extension registered, so the socket is there when the runtime connects.
    collector = await MethodHitCollector.ListenAsync(options.StateDirectory, options.TaskRoot, log.Info, CancellationToken.None);
    startup.Listening();
    if (!collector.IsCollecting)
    {
        await collector.DisposeAsync();
        return AgentExitCodes.Inert;
    }
    IMethodHitSink CreateSink()
    {
        var sinks = new List<IMethodHitSink>();
        if (delivery is not null)
        {
            // Announced to Sealights from the first INVOKE on (Delivery/LifecycleCalls), with the function's facts.
            sinks.Add(new FootprintsDelivery(delivery, options.Token!, log, announce: () => LambdaFacts.Read(Environment.GetEnvironmentVariable, options.TaskRoot)));
        }
        if (options.HitsDumpFile is { } dump)
        {
            sinks.Add(new HitsDumpFile(dump));
        }
        return sinks.Count == 1 ? sinks[0] : new MethodHitSinks(sinks);
    }
    // Hits for the file only are flushed right after every response (post-runtime time: a local
    // run's concern, not a deployed function's), so the file is current before the environment
    // freezes; at INVOKE the flush would run frozen, and land invocations later.
    var policy = delivery is null
        ? FlushPolicy.AfterEveryResponse()
        : new FlushPolicy(
            delivery.UseTelemetryApi,
            delivery.FlushInterval,
            delivery.FlushBudget,
            delivery.UseTelemetryApi ? null : "SL_TELEMETRY_API=false");
    using var api = new ExtensionsApiClient(runtimeApi);
    Func<string?>? launcherIdentifier = registeredByLauncher
        ? () => LauncherHandOver.ReadIdentifier(new StreamReader(Console.OpenStandardInput()))
        : null;
    var host = new AgentHost(options, log, api, extensionName, launcherIdentifier, collector, CreateSink, policy, startup);
    // SIGUSR1 from the exec wrapper: the runtime is about to be stopped (see AgentHost).
    // PosixSignal takes raw signal numbers; 10 is SIGUSR1 on Linux.
    using var flushRequest = PosixSignalRegistration.Create((PosixSignal)10, context =>
    {
        context.Cancel = true;
        host.FlushBeforeRuntimeExit();
    });
    return host.Run();
}
catch (Exception e)
{
    log.Error($"stopped by {e.GetType().Name}: {e.Message}; the function continues without coverage");
    if (collector is not null)
    {
        await collector.DisposeAsync();
    }
    return AgentExitCodes.Failed;
}

static string ExtensionName(string[] args)
{
    var index = Array.IndexOf(args, "--extension-name");
    if (index >= 0 && index + 1 < args.Length)
    {
        return args[index + 1];
    }
    // Lambda requires the registered name to be the file name in /opt/extensions.
    return Path.GetFileName(Environment.ProcessPath) ?? "sealights-agent";
}
