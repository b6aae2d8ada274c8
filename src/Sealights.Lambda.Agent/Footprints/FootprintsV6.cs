using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sealights.Lambda.Agent.Footprints;

/// <summary>
/// Sealights footprints format 6.0, as used by Sealights' public Node agent (not verified against
/// the service; see Delivery/README.md). The ONLY place that knows this JSON shape:
/// <code>
/// {"formatVersion":"6.0",
///  "meta":{"agentId":…,"labId":…,"intervals":{"timedFootprintsCollectionIntervalSeconds":10}},
///  "methods":[uniqueId…], "branches":[],
///  "executions":[{"executionId":…,"hits":[{"methods":[index…],"branches":[],"start":ms,"end":ms,
///                                          "isInitFootprints":true?,"isFinalFootprints":true?}]}]}
/// </code>
/// <c>methods</c> lists every id once per document; each hits entry refers to them by index.
/// The optional flags are written only when true.
/// </summary>
public static class FootprintsV6
{
    public const string FormatVersion = "6.0";

    /// <summary>
    /// Sealights agents' default collection interval. The Lambda agent collects per invocation,
    /// not on a timer; the field is kept at the default the backend expects.
    /// </summary>
    public const int TimedFootprintsCollectionIntervalSeconds = 10;

    /// <summary>One document (UTF-8 JSON, uncompressed) for one execution and the given entries, in order.</summary>
    public static byte[] Serialize(string agentId, string labId, string executionId, IReadOnlyList<FootprintsHits> entries)
    {
        var methods = new List<string>();
        var indices = new Dictionary<string, int>(StringComparer.Ordinal);
        var hits = new List<V6Hits>(entries.Count);
        foreach (var entry in entries)
        {
            var refs = new List<int>(entry.Methods.Count);
            foreach (var id in entry.Methods)
            {
                if (!indices.TryGetValue(id, out var index))
                {
                    index = methods.Count;
                    methods.Add(id);
                    indices.Add(id, index);
                }
                refs.Add(index);
            }
            hits.Add(new V6Hits
            {
                Methods = refs,
                Start = entry.StartMs,
                End = entry.EndMs,
                IsInitFootprints = entry.IsInit ? true : null,
                IsFinalFootprints = entry.IsFinal ? true : null,
            });
        }
        var document = new V6Document
        {
            Meta = new V6Meta { AgentId = agentId, LabId = labId },
            Methods = methods,
            Executions = [new V6Execution { ExecutionId = executionId, Hits = hits }],
        };
        return JsonSerializer.SerializeToUtf8Bytes(document, FootprintsJsonContext.Default.V6Document);
    }
}

internal sealed class V6Document
{
    [JsonPropertyName("formatVersion")]
    public string FormatVersion { get; init; } = FootprintsV6.FormatVersion;

    [JsonPropertyName("meta")]
    public required V6Meta Meta { get; init; }

    [JsonPropertyName("methods")]
    public required List<string> Methods { get; init; }

    [JsonPropertyName("branches")]
    public List<string> Branches { get; init; } = [];

    [JsonPropertyName("executions")]
    public required List<V6Execution> Executions { get; init; }
}

internal sealed class V6Meta
{
    [JsonPropertyName("agentId")]
    public required string AgentId { get; init; }

    [JsonPropertyName("labId")]
    public required string LabId { get; init; }

    [JsonPropertyName("intervals")]
    public V6Intervals Intervals { get; init; } = new();
}

internal sealed class V6Intervals
{
    [JsonPropertyName("timedFootprintsCollectionIntervalSeconds")]
    public int TimedFootprintsCollectionIntervalSeconds { get; init; } = FootprintsV6.TimedFootprintsCollectionIntervalSeconds;
}

internal sealed class V6Execution
{
    [JsonPropertyName("executionId")]
    public required string ExecutionId { get; init; }

    [JsonPropertyName("hits")]
    public required List<V6Hits> Hits { get; init; }
}

internal sealed class V6Hits
{
    [JsonPropertyName("methods")]
    public required List<int> Methods { get; init; }

    [JsonPropertyName("branches")]
    public List<int> Branches { get; init; } = [];

    [JsonPropertyName("start")]
    public long Start { get; init; }

    [JsonPropertyName("end")]
    public long End { get; init; }

    [JsonPropertyName("isInitFootprints")]
    public bool? IsInitFootprints { get; init; }

    [JsonPropertyName("isFinalFootprints")]
    public bool? IsFinalFootprints { get; init; }
}

// Source-generated (NativeAOT: no reflection). Nulls are left out: the optional flags appear only when true.
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(V6Document))]
internal sealed partial class FootprintsJsonContext : JsonSerializerContext;
