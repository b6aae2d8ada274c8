namespace Sealights.Lambda.Agent.Diagnostics.NetTrace;

/// <summary>The providers whose events the agent reads; every other provider's events are skipped.</summary>
internal enum TraceProvider
{
    Other = 0,

    /// <summary>Microsoft-Windows-DotNETRuntime: live events.</summary>
    Runtime,

    /// <summary>Microsoft-Windows-DotNETRuntimeRundown: what the runtime lists when a session stops.</summary>
    Rundown,

    /// <summary>Sealights-Coverage: the probes runtime library's flush (Sealights.Coverage.Probes/README.md).</summary>
    Coverage,
}

/// <summary>One event of a provider the agent reads; the payload is only valid during the handler call.</summary>
internal readonly ref struct NetTraceEvent(TraceProvider provider, int eventId, int version, DateTime timestampUtc, ReadOnlySpan<byte> payload)
{
    public TraceProvider Provider { get; } = provider;

    public int EventId { get; } = eventId;

    public int Version { get; } = version;

    public DateTime TimestampUtc { get; } = timestampUtc;

    public ReadOnlySpan<byte> Payload { get; } = payload;
}

/// <summary>Receives the events of the agent's providers in a stream, on the thread reading it.</summary>
internal interface INetTraceEventHandler
{
    /// <summary>The stream's header was read: it comes from process <paramref name="processId"/>.</summary>
    void OnTraceStarted(int processId);

    void OnEvent(in NetTraceEvent traceEvent);
}
