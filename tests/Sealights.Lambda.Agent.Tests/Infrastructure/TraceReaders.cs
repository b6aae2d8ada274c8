using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Session;
using Sealights.Lambda.Agent.Diagnostics.NetTrace;

namespace Sealights.Lambda.Agent.Tests.Infrastructure;

/// <summary>One event as a reader saw it: what the agent relies on, payload as hex for readable diffs.</summary>
internal readonly record struct TraceRecord(string Provider, int EventId, int Version, DateTime TimestampUtc, string Payload)
{
    public override string ToString() => $"{Provider}/{EventId} v{Version} {TimestampUtc:O} [{Payload.Length / 2} bytes]";
}

/// <summary>What one reader made of a whole stream.</summary>
/// <param name="Events">The events of the agent's providers, in the order the reader handed them on.</param>
/// <param name="EventsRead">Every event of every provider.</param>
/// <param name="EventsLost">Events the runtime dropped, by the reader's count.</param>
/// <param name="Error">What ended reading early (a cut stream), if anything.</param>
internal sealed record TraceReading(IReadOnlyList<TraceRecord> Events, long EventsRead, long EventsLost, Exception? Error);

/// <summary>
/// The same bytes through the agent's reader and through TraceEvent, the format's reference
/// reader (the oracle). Only events of the agent's providers are kept for comparison.
/// </summary>
internal static class TraceReaders
{
    /// <summary>
    /// TraceEvent names a provider by GUID (an event its parsers do not know shows as
    /// "Provider(guid)"): the CLR's two are fixed GUIDs, an EventSource's is derived from its name.
    /// </summary>
    private static readonly Dictionary<Guid, string> ProviderGuids = new()
    {
        [new Guid("e13c0d23-ccbc-4e12-931b-d9cc2eee27e4")] = NetTraceReader.RuntimeProviderName,
        [new Guid("a669021c-c450-4609-a035-5af59af4df18")] = NetTraceReader.RundownProviderName,
        [TraceEventProviders.GetEventSourceGuidFromName(NetTraceReader.CoverageProviderName)] = NetTraceReader.CoverageProviderName,
    };

    public static TraceReading Agent(byte[] stream)
    {
        var reader = new NetTraceReader(new MemoryStream(stream, writable: false));
        var handler = new Collecting();
        Exception? error = null;
        try
        {
            reader.Read(handler);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException)
        {
            error = e;
        }

        return new TraceReading(handler.Events, reader.EventsRead, reader.EventsLost, error);
    }

    public static TraceReading TraceEvent(byte[] stream)
    {
        var events = new List<TraceRecord>();
        long read = 0;
        long lost = 0;
        Exception? error = null;
        try
        {
            using var source = new EventPipeEventSource(new MemoryStream(stream, writable: false));
            source.AllEvents += e =>
            {
                read++;
                if (ProviderGuids.TryGetValue(e.ProviderGuid, out var provider))
                {
                    events.Add(new TraceRecord(provider, (int)e.ID, e.Version, e.TimeStamp.ToUniversalTime(), Convert.ToHexString(e.EventData())));
                }
            };
            try
            {
                source.Process();
            }
            finally
            {
                lost = source.EventsLost;
            }
        }
        catch (Exception e)
        {
            error = e;
        }

        return new TraceReading(events, read, lost, error);
    }

    private static string ProviderName(TraceProvider provider) => provider switch
    {
        TraceProvider.Runtime => NetTraceReader.RuntimeProviderName,
        TraceProvider.Rundown => NetTraceReader.RundownProviderName,
        TraceProvider.Coverage => NetTraceReader.CoverageProviderName,
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "the reader hands on only its own providers"),
    };

    private sealed class Collecting : INetTraceEventHandler
    {
        public List<TraceRecord> Events { get; } = [];

        public void OnTraceStarted(int processId)
        {
        }

        public void OnEvent(in NetTraceEvent traceEvent) =>
            Events.Add(new TraceRecord(ProviderName(traceEvent.Provider), traceEvent.EventId, traceEvent.Version, traceEvent.TimestampUtc, Convert.ToHexString(traceEvent.Payload)));
    }
}
