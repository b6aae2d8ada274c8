using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sealights.Lambda.Agent.Footprints;

/// <summary>
/// Sealights footprints format 6.0, as Sealights' Node agent (slnodejs 6.1.1133) sends it (see
/// Delivery/README.md and the conformance recordings). The ONLY place that knows this JSON shape:
/// <code>
/// {"formatVersion":"6.0",
///  "meta":{"agentId":…,"labId":…,"intervals":{"timedFootprintsCollectionIntervalSeconds":10}
///          [,"footprintsMapping":"agent","agentConfig":{…}]},          (collector only)
///  "methods":[uniqueId…], "branches":[],
///  "executions":[{["executionId":…,]"hits":[{"methods":[index…],"branches":[],"start":s,"end":s,
///                 "testName":null,"isInitFootprints":bool,"isFinalFootprints":bool}]}]}
/// </code>
/// <c>methods</c> lists every id once per document; each hits entry refers to them by index.
/// <c>start</c>/<c>end</c> are epoch seconds; <c>testName</c> and both flags are always present.
/// </summary>
public static class FootprintsV6
{
    public const string FormatVersion = "6.0";

    /// <summary>
    /// Sealights agents' default collection interval. The Lambda agent collects per invocation,
    /// not on a timer; the field is kept at the default the backend expects.
    /// </summary>
    public const int TimedFootprintsCollectionIntervalSeconds = 10;

    /// <summary>What slnodejs puts in <c>meta.footprintsMapping</c> for a collector.</summary>
    public const string CollectorFootprintsMapping = "agent";

    /// <summary>
    /// One document (UTF-8 JSON, uncompressed) for one execution (null: none, for a collector) and
    /// the given entries, in order. <paramref name="agentConfig"/> (collector only) becomes
    /// <c>meta.agentConfig</c> with <c>meta.footprintsMapping</c>.
    /// </summary>
    public static byte[] Serialize(string agentId, string labId, string? executionId, IReadOnlyList<FootprintsHits> entries, AgentConfigMeta? agentConfig = null)
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
                // Epoch seconds, as slnodejs sends them; the span is widened to whole seconds.
                Start = entry.StartMs / 1000,
                End = (entry.EndMs + 999) / 1000,
                IsInitFootprints = entry.IsInit,
                IsFinalFootprints = entry.IsFinal,
            });
        }
        var document = new V6Document
        {
            Meta = new V6Meta
            {
                AgentId = agentId,
                LabId = labId,
                FootprintsMapping = agentConfig is null ? null : CollectorFootprintsMapping,
                AgentConfig = agentConfig,
            },
            Methods = methods,
            Executions = [new V6Execution { ExecutionId = executionId, Hits = hits }],
        };
        return JsonSerializer.SerializeToUtf8Bytes(document, FootprintsJsonContext.Default.V6Document);
    }
}

/// <summary>
/// <c>meta.agentConfig</c> of collector footprints: who sent them (a collector has no execution to
/// learn the build from). Unknown values are left out.
/// </summary>
public sealed class AgentConfigMeta
{
    [JsonPropertyName("agentId")]
    public string? AgentId { get; init; }

    [JsonPropertyName("appName")]
    public string? AppName { get; init; }

    [JsonPropertyName("build")]
    public string? Build { get; init; }

    [JsonPropertyName("branch")]
    public string? Branch { get; init; }

    [JsonPropertyName("buildSessionId")]
    public string? BuildSessionId { get; init; }

    [JsonPropertyName("labId")]
    public string? LabId { get; init; }

    [JsonPropertyName("agentVersion")]
    public string? AgentVersion { get; init; }

    [JsonPropertyName("agentType")]
    public string? AgentType { get; init; }
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

    [JsonPropertyName("footprintsMapping")]
    public string? FootprintsMapping { get; init; }

    [JsonPropertyName("agentConfig")]
    public AgentConfigMeta? AgentConfig { get; init; }
}

internal sealed class V6Intervals
{
    [JsonPropertyName("timedFootprintsCollectionIntervalSeconds")]
    public int TimedFootprintsCollectionIntervalSeconds { get; init; } = FootprintsV6.TimedFootprintsCollectionIntervalSeconds;
}

internal sealed class V6Execution
{
    [JsonPropertyName("executionId")]
    public string? ExecutionId { get; init; }

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

    // Always present, null: slnodejs sends it so without a test framework.
    [JsonPropertyName("testName")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? TestName { get; init; }

    [JsonPropertyName("isInitFootprints")]
    public bool IsInitFootprints { get; init; }

    [JsonPropertyName("isFinalFootprints")]
    public bool IsFinalFootprints { get; init; }
}

// Source-generated (NativeAOT: no reflection). Nulls are left out (the collector-only meta, the
// execution id for a collector, agentConfig's unknown fields), except testName.
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(V6Document))]
internal sealed partial class FootprintsJsonContext : JsonSerializerContext;
