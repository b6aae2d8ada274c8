using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;
using Sealights.Lambda.Agent.Diagnostics;

namespace Sealights.Lambda.Agent.MethodHits;

/// <summary>
/// Reads one EventPipe session's stream with TraceEvent and passes on only what identifies a
/// method's first call: (module, MethodDef token, timestamp), plus module id → IL path. Runs on
/// the session's thread; it must keep up with the runtime, so it does no lookups of its own.
/// </summary>
internal sealed class RuntimeEventReader
{
    // MethodDetails precedes its R2RGetEntryPoint on the same thread; anything left unmatched
    // (a details event whose entry point was never reported) is dropped past this many.
    private const int MaxUnmatchedDetails = 4096;

    private readonly IMethodEventSink _sink;
    private readonly Dictionary<long, MethodDetailsPayload> _details = [];
    private DateTimeOffset? _sessionStart;

    private RuntimeEventReader(IMethodEventSink sink)
    {
        _sink = sink;
    }

    /// <summary>Reads <paramref name="stream"/> to its end.</summary>
    public static void Read(Stream stream, IMethodEventSink sink, TraceCounters counters)
    {
        using var source = new EventPipeEventSource(stream);
        var reader = new RuntimeEventReader(sink);
        reader.Subscribe(source);
        long events = 0;
        source.AllEvents += _ => events++;
        try
        {
            source.Process();
        }
        finally
        {
            counters.AddEvents(events);
            counters.AddEventsLost(source.EventsLost);
        }
    }

    private static DateTimeOffset At(TraceEvent e) => new(e.TimeStamp.ToUniversalTime(), TimeSpan.Zero);

    private static bool IsMethodDef(long moduleId, int token) =>
        // Dynamic (LCG) methods have no module or token; anything but a MethodDef cannot be mapped.
        moduleId != 0 && (token >>> 24) == 0x06 && (token & 0x00FFFFFF) != 0;

    private void Subscribe(EventPipeEventSource source)
    {
        var clr = source.Clr;
        clr.LoaderModuleLoad += e => _sink.OnModule(e.ModuleID, e.ModuleILPath);
        clr.MethodJittingStarted += e => Called(e.ModuleID, e.MethodToken, At(e));
        // Also sent for tier-1 rejits and OSR versions: the sink reports each method once.
        clr.MethodLoadVerbose += e => Called(e.ModuleID, e.MethodToken, At(e));
        clr.MethodMethodDetails += OnMethodDetails;
        clr.MethodR2RGetEntryPoint += OnReadyToRunEntryPoint;

        var rundown = new ClrRundownTraceEventParser(source);
        rundown.LoaderModuleDCStop += e => _sink.OnModule(e.ModuleID, e.ModuleILPath);
        rundown.MethodDCStopVerbose += e =>
        {
            if (IsMethodDef(e.ModuleID, e.MethodToken))
            {
                _sessionStart ??= new DateTimeOffset(source.SessionStartTime.ToUniversalTime(), TimeSpan.Zero);
                _sink.OnMethodListed(e.ModuleID, e.MethodToken, _sessionStart.Value);
            }
        };
    }

    private void Called(long moduleId, int token, DateTimeOffset timestamp)
    {
        if (IsMethodDef(moduleId, token))
        {
            _sink.OnMethodCalled(moduleId, token, timestamp);
        }
    }

    private void OnMethodDetails(MethodDetailsTraceData e)
    {
        if (!MethodDetailsPayload.TryRead(e.EventData(), out var details))
        {
            return;
        }

        if (_details.Count >= MaxUnmatchedDetails)
        {
            _details.Clear();
        }

        _details[details.MethodId] = details;
    }

    private void OnReadyToRunEntryPoint(R2RGetEntryPointTraceData e)
    {
        // Also sent when the lookup finds no precompiled code and the method is jitted next:
        // a call either way.
        if (_details.Remove(e.MethodID, out var details))
        {
            Called(details.LoaderModuleId, details.MethodToken, At(e));
        }
    }
}
