using System.Text;
using System.Text.Json;
using Sealights.Lambda.Agent.Lifecycle;
using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Delivery;

/// <summary>
/// Debug mode (<c>SL_DEBUG_HITS_FILE</c>): appends each method hit as one JSON line
/// <c>{"method":id,"firstSeen":iso8601,["lastSeen":iso8601,]"flush":n,"final":bool}</c> (<c>lastSeen</c>: probe hits). Used by tests and by
/// people checking what the agent sees, before any backend is involved.
/// </summary>
public sealed class HitsDumpFile(string path) : IMethodHitSink
{
    private int _flushes;

    // People read this file: method ids keep their '<' and '>' (<Main>$, <>c), not \u003C.
    private static readonly JsonWriterOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public async Task WriteAsync(IReadOnlyList<MethodHit> hits, bool isFinal, CancellationToken cancellationToken)
    {
        var flush = Interlocked.Increment(ref _flushes);
        var text = new StringBuilder();
        foreach (var hit in hits)
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer, Readable))
            {
                json.WriteStartObject();
                json.WriteString("method", hit.Method.Id);
                json.WriteString("firstSeen", hit.FirstSeen.UtcDateTime.ToString("O"));
                if (hit.LastSeen is { } lastSeen)
                {
                    // Probe hits: the method ran between firstSeen and this.
                    json.WriteString("lastSeen", lastSeen.UtcDateTime.ToString("O"));
                }
                json.WriteNumber("flush", flush);
                json.WriteBoolean("final", isFinal);
                json.WriteEndObject();
            }
            text.Append(Encoding.UTF8.GetString(buffer.ToArray())).Append('\n');
        }
        // A final flush with no hits still leaves a trace, so a reader can tell "nothing" from "not yet".
        if (isFinal)
        {
            text.Append("{\"final\":true,\"flush\":").Append(flush).Append(",\"hits\":").Append(hits.Count).Append("}\n");
        }
        await File.AppendAllTextAsync(path, text.ToString(), cancellationToken);
    }
}
