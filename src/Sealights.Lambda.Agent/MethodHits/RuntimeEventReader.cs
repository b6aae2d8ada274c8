using System.Buffers.Binary;
using Sealights.Lambda.Agent.Diagnostics;
using Sealights.Lambda.Agent.Diagnostics.NetTrace;

namespace Sealights.Lambda.Agent.MethodHits;

/// <summary>
/// Reads one EventPipe session's stream and passes on only what identifies a method's first
/// call: (module, MethodDef token, timestamp), plus module id → IL path. Runs on the session's
/// thread; it must keep up with the runtime, so it decodes fixed payload offsets and does no
/// lookups of its own.
/// <para>
/// Payload layouts (ClrEtwAll.man; every version only appends fields, so the offsets hold for
/// all of them):
/// <list type="bullet">
/// <item>MethodLoad(141) / MethodLoadVerbose(143), rundown MethodDCEnd(142) / MethodDCEndVerbose(144):
/// <c>MethodID u64 | ModuleID u64 | StartAddress u64 | Size u32 | MethodToken u32 | …</c></item>
/// <item>MethodJittingStarted(145): <c>MethodID u64 | ModuleID u64 | MethodToken u32 | …</c></item>
/// <item>ModuleLoad(152), rundown ModuleDCEnd(154):
/// <c>ModuleID u64 | AssemblyID u64 | Flags u32 | Reserved u32 | ModuleILPath utf16z | …</c></item>
/// <item>R2RGetEntryPoint(159): <c>MethodID u64 | …</c>; MethodDetails(72): see <see cref="MethodDetailsPayload"/>.</item>
/// </list>
/// </para>
/// </summary>
internal sealed class RuntimeEventReader : INetTraceEventHandler
{
    // MethodDetails precedes its R2RGetEntryPoint on the same thread; anything left unmatched
    // (a details event whose entry point was never reported) is dropped past this many.
    private const int MaxUnmatchedDetails = 4096;

    private const int MethodDetails = 72;
    private const int MethodLoad = 141;
    private const int MethodDCEnd = 142;
    private const int MethodLoadVerbose = 143;
    private const int MethodDCEndVerbose = 144;
    private const int MethodJittingStarted = 145;
    private const int ModuleLoad = 152;
    private const int ModuleDCEnd = 154;
    private const int R2RGetEntryPoint = 159;

    private readonly IMethodEventSink _sink;
    private readonly NetTraceReader _reader;
    private readonly Action<int>? _onProcessId;
    private readonly Dictionary<long, MethodDetailsPayload> _details = [];

    private RuntimeEventReader(IMethodEventSink sink, NetTraceReader reader, Action<int>? onProcessId)
    {
        _sink = sink;
        _reader = reader;
        _onProcessId = onProcessId;
    }

    /// <summary>Reads <paramref name="stream"/> to its end.</summary>
    /// <param name="stream">One session's stream.</param>
    /// <param name="sink">Where module and method events go.</param>
    /// <param name="counters">Where events read and lost are counted.</param>
    /// <param name="onProcessId">Told the traced process's id as soon as the stream's header is read.</param>
    public static void Read(Stream stream, IMethodEventSink sink, TraceCounters counters, Action<int>? onProcessId = null)
    {
        var reader = new NetTraceReader(stream);
        try
        {
            reader.Read(new RuntimeEventReader(sink, reader, onProcessId));
        }
        finally
        {
            counters.AddEvents(reader.EventsRead);
            counters.AddEventsLost(reader.EventsLost);
        }
    }

    public void OnTraceStarted(int processId) => _onProcessId?.Invoke(processId);

    public void OnEvent(in NetTraceEvent e)
    {
        var payload = e.Payload;
        switch (e.Provider, e.EventId)
        {
            case (TraceProvider.Runtime, ModuleLoad):
            case (TraceProvider.Rundown, ModuleDCEnd):
                OnModule(payload);
                break;
            case (TraceProvider.Runtime, MethodJittingStarted) when payload.Length >= 20:
                Called(ReadInt64(payload, 8), ReadInt32(payload, 16), e.TimestampUtc);
                break;
            // Also sent for tier-1 rejits and OSR versions: the sink reports each method once.
            case (TraceProvider.Runtime, MethodLoad or MethodLoadVerbose) when payload.Length >= 32:
                Called(ReadInt64(payload, 8), ReadInt32(payload, 28), e.TimestampUtc);
                break;
            case (TraceProvider.Runtime, MethodDetails):
                OnMethodDetails(payload);
                break;
            case (TraceProvider.Runtime, R2RGetEntryPoint) when payload.Length >= 8:
                OnReadyToRunEntryPoint(ReadInt64(payload, 0), e.TimestampUtc);
                break;
            case (TraceProvider.Rundown, MethodDCEnd or MethodDCEndVerbose) when payload.Length >= 32:
                Listed(ReadInt64(payload, 8), ReadInt32(payload, 28));
                break;
        }
    }

    private static long ReadInt64(ReadOnlySpan<byte> payload, int offset) => BinaryPrimitives.ReadInt64LittleEndian(payload[offset..]);

    private static int ReadInt32(ReadOnlySpan<byte> payload, int offset) => BinaryPrimitives.ReadInt32LittleEndian(payload[offset..]);

    private static DateTimeOffset Utc(DateTime time) => new(time, TimeSpan.Zero);

    private static bool IsMethodDef(long moduleId, int token) =>
        // Dynamic (LCG) methods have no module or token; anything but a MethodDef cannot be mapped.
        moduleId != 0 && (token >>> 24) == 0x06 && (token & 0x00FFFFFF) != 0;

    private void OnModule(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 26)
        {
            return;
        }

        var path = payload[24..];
        var ilPath = Utf16.ReadNullTerminated(ref path);
        _sink.OnModule(ReadInt64(payload, 0), ilPath);
    }

    private void Called(long moduleId, int token, DateTime timestamp)
    {
        if (IsMethodDef(moduleId, token))
        {
            _sink.OnMethodCalled(moduleId, token, Utc(timestamp));
        }
    }

    private void Listed(long moduleId, int token)
    {
        if (IsMethodDef(moduleId, token))
        {
            // Rundown has no call time: the session's start is the earliest time the trace covers.
            _sink.OnMethodListed(moduleId, token, Utc(_reader.SessionStartUtc));
        }
    }

    private void OnMethodDetails(ReadOnlySpan<byte> payload)
    {
        if (!MethodDetailsPayload.TryRead(payload, out var details))
        {
            return;
        }

        if (_details.Count >= MaxUnmatchedDetails)
        {
            _details.Clear();
        }

        _details[details.MethodId] = details;
    }

    private void OnReadyToRunEntryPoint(long methodId, DateTime timestamp)
    {
        // Also sent when the lookup finds no precompiled code and the method is jitted next:
        // a call either way.
        if (_details.Remove(methodId, out var details))
        {
            Called(details.LoaderModuleId, details.MethodToken, timestamp);
        }
    }
}
