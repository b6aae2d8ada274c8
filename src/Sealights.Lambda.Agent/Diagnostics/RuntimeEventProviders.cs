using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;

namespace Sealights.Lambda.Agent.Diagnostics;

/// <summary>
/// What the agent asks the runtime for: the method-hit events of the CLR provider and nothing
/// else (no stacks, no GC, no exceptions), so a session costs the function as little as it can.
/// </summary>
internal static class RuntimeEventProviders
{
    public const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";

    /// <summary>ModuleLoad: module id → IL path. Its events are only sent at Verbose.</summary>
    public const long LoaderKeyword = 0x8;

    /// <summary>MethodJittingStarted / MethodLoadVerbose: id, module and token of each jitted method.</summary>
    public const long JitKeyword = 0x10;

    /// <summary>R2RGetEntryPoint: the first call into a precompiled (ReadyToRun) method; no token in it.</summary>
    public const long CompilationDiagnosticKeyword = 0x2000000000;

    /// <summary>MethodDetails, sent just before R2RGetEntryPoint: the token and module it lacks.</summary>
    public const long MethodDiagnosticKeyword = 0x4000000000;

    /// <summary>Jitted methods only: all an application without ReadyToRun code can hit.</summary>
    public const long JitKeywords = LoaderKeyword | JitKeyword;

    /// <summary>Jitted and ReadyToRun methods.</summary>
    public const long ReadyToRunKeywords = JitKeywords | CompilationDiagnosticKeyword | MethodDiagnosticKeyword;

    /// <summary>
    /// Rundown at session stop (Loader | Jit | EndEnumeration): MethodDCStopVerbose for every
    /// jitted method and every ReadyToRun method already entered, and ModuleDCStop for every
    /// module. Measured: the same method set as the client's default 0x80020139, without the
    /// IL-to-native maps. NGen (0x20) is not needed for ReadyToRun methods on .NET 8+.
    /// </summary>
    public const long RundownKeywords = 0x8 | 0x10 | 0x100;

    /// <summary>
    /// Upper bound of the runtime's buffers for one session (allocated as needed, drained about
    /// every 100 ms): room for a cold start's burst of framework ReadyToRun entry points.
    /// </summary>
    public const int BufferSizeMb = 4;

    /// <summary>The probes library's EventSource (src/Sealights.Coverage.Probes/README.md).</summary>
    public const string CoverageProvider = "Sealights-Coverage";

    /// <summary>
    /// A provider nobody defines: the session that only tells the agent when a probed runtime
    /// exits (its stream ends) enables nothing in the runtime, not even the coverage source.
    /// </summary>
    public const string LivenessProvider = "Sealights-Coverage-Liveness";

    /// <summary>
    /// Upper bound of a flush session's buffers: a flush writes 4 bytes per method hit plus ~100
    /// per 15,000-index chunk, all at once, so 16 MB holds a flush of about 4 million methods.
    /// </summary>
    public const int FlushBufferSizeMb = 16;

    /// <summary>
    /// A flush: only the coverage provider, with <c>flush=&lt;sequence&gt;</c>; the library answers
    /// inside the session-start command. No rundown, no stacks where the runtime allows.
    /// </summary>
    public static IReadOnlyList<EventPipeSessionConfiguration> ProbeFlushSessions(int sequence) =>
        CoverageOnly("flush", sequence.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The idle session of a runtime whose application is all probed, from its connection: its stream's end is the process's exit.</summary>
    public static IReadOnlyList<EventPipeSessionConfiguration> LivenessSessions() =>
        WithoutRundown([new(LivenessProvider, EventLevel.Critical, 0)], 1);

    /// <summary>
    /// The standing session of a runtime whose application is all probed: the coverage provider
    /// with <c>invocations=runtime-api</c>, so the library harvests at every invocation's end by
    /// itself (as a datagram to <paramref name="harvestsSocket"/>, else as events that come out with
    /// the runtime's next writer pass, ~100 ms later). Started after the first flush, not at the connection: arming costs the function
    /// 12–45 ms of CPU once (an in-process listener on the HTTP client's telemetry), which must not
    /// fall in its init.
    /// </summary>
    /// <param name="harvestsSocket">
    /// The agent's datagram socket for the harvests (<c>harvests=&lt;path&gt;</c>), or null: each then
    /// comes at once instead of with the writer's next pass (Probes README, "Harvest datagrams").
    /// </param>
    public static IReadOnlyList<EventPipeSessionConfiguration> CoverageSessions(string? harvestsSocket = null)
    {
        var arguments = new Dictionary<string, string> { ["invocations"] = "runtime-api" };
        // The filter data is key=value;key=value: a path that would break it is not offered.
        if (harvestsSocket is not null && harvestsSocket.IndexOfAny([';', '=', '"']) < 0)
        {
            arguments["harvests"] = harvestsSocket;
        }

        return WithoutRundown([new(CoverageProvider, EventLevel.Informational, -1, arguments)], FlushBufferSizeMb);
    }

    /// <summary>
    /// A session's configurations, most economical first. Only a runtime's first session needs
    /// rundown (what ran before the agent attached); later sessions overlap their predecessor, so
    /// nothing falls between. Older runtimes refuse the newer IPC commands: .NET 8 has neither the
    /// custom rundown keyword (CollectTracing4, .NET 9) nor the stack-walk switch (CollectTracing3),
    /// so its last resort is the legacy command, which records a stack with every event.
    /// </summary>
    /// <param name="rundown">List what ran before the session when it stops.</param>
    /// <param name="readyToRun">
    /// Also report first calls into ReadyToRun code. Those events fire for every precompiled
    /// method the process enters, the framework's included (thousands in a cold start, most of its
    /// events, each with its name formatted by the runtime on the function's own thread), so they
    /// are only asked for when the application itself has ReadyToRun code.
    /// </param>
    public static IReadOnlyList<EventPipeSessionConfiguration> Sessions(bool rundown, bool readyToRun)
    {
        EventPipeProvider[] providers = [new(RuntimeProvider, EventLevel.Verbose, readyToRun ? ReadyToRunKeywords : JitKeywords)];
        return rundown
            ?
            [
                new EventPipeSessionConfiguration(providers, BufferSizeMb, RundownKeywords, requestStackwalk: false),
                new EventPipeSessionConfiguration(providers, BufferSizeMb, requestRundown: true, requestStackwalk: false),
                new EventPipeSessionConfiguration(providers, BufferSizeMb, requestRundown: true, requestStackwalk: true),
            ]
            : WithoutRundown(providers, BufferSizeMb);
    }

    /// <summary>Only the coverage provider, with one filter argument (the library's command).</summary>
    private static IReadOnlyList<EventPipeSessionConfiguration> CoverageOnly(string key, string value) =>
        WithoutRundown([new(CoverageProvider, EventLevel.Informational, -1, new Dictionary<string, string> { [key] = value })], FlushBufferSizeMb);

    /// <summary>No rundown; without stacks first, with them for a runtime that refuses the newer command.</summary>
    private static IReadOnlyList<EventPipeSessionConfiguration> WithoutRundown(EventPipeProvider[] providers, int bufferSizeMb) =>
    [
        new EventPipeSessionConfiguration(providers, bufferSizeMb, requestRundown: false, requestStackwalk: false),
        new EventPipeSessionConfiguration(providers, bufferSizeMb, requestRundown: false, requestStackwalk: true),
    ];
}
