using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Sealights.Lambda.Agent.Delivery;

/// <summary>
/// Sealights' remote configuration for this agent, <c>GET {server}/v3/config?…</c>: a flat JSON
/// object whose keys override agent settings. Only the keys that mean something for a Lambda
/// extension are read (Delivery/README.md, "Lifecycle calls", says why the others are not):
/// <list type="bullet">
/// <item><c>enabled: false</c>: the agent stops: no footprints, no events, no requests.</item>
/// <item><c>sendFootprints: false</c>: no footprints (events go on).</item>
/// <item><c>sendEvents: false</c>: no agent events (footprints go on).</item>
/// <item><c>executionQueryIntervalSecs</c>: how often the active execution may be asked for.</item>
/// </list>
/// </summary>
public sealed record RemoteConfiguration(bool Enabled = true, bool SendFootprints = true, bool SendEvents = true, TimeSpan? ExecutionQueryInterval = null)
{
    /// <summary>Shortest execution query interval taken from the service (a typo must not make every pass query).</summary>
    public static readonly TimeSpan MinimumExecutionQueryInterval = TimeSpan.FromSeconds(1);

    /// <summary>Nothing overridden: the answer to use when the request fails.</summary>
    public static readonly RemoteConfiguration Defaults = new();

    /// <summary>
    /// The query: <c>agentType, agentVersion, agentId, appName, branchName, buildName, testStage, labId</c>
    /// in slnodejs' order, only those known.
    /// </summary>
    public static string Query(DeliveryOptions options, AgentMetadata metadata)
    {
        var query = new StringBuilder();
        void Add(string name, string? value)
        {
            if (string.IsNullOrEmpty(value))
            {
                return;
            }
            query.Append(query.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }
        Add("agentType", AgentMetadata.AgentType);
        Add("agentVersion", AgentMetadata.AgentVersion);
        Add("agentId", options.AgentId);
        Add("appName", metadata.AppName);
        Add("branchName", metadata.BranchName);
        Add("buildName", metadata.BuildName);
        Add("testStage", options.TestStage);
        Add("labId", options.LabId);
        return query.ToString();
    }

    /// <summary>Reads the answer; null when it is not a JSON object. Values of the wrong type are ignored.</summary>
    public static RemoteConfiguration? Parse(ReadOnlySpan<byte> body)
    {
        // JsonDocument checks strings' UTF-8 only when they are read (GetString throws then).
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            // Past what a TimeSpan holds (FromSeconds would throw), or not a number: ignored like a wrong type.
            TimeSpan? interval = Seconds(root, "executionQueryIntervalSecs") is { } seconds && seconds > 0 && seconds < TimeSpan.MaxValue.TotalSeconds / 2
                ? TimeSpan.FromSeconds(Math.Max(seconds, MinimumExecutionQueryInterval.TotalSeconds))
                : null;
            return new RemoteConfiguration(
                Flag(root, "enabled") ?? true,
                Flag(root, "sendFootprints") ?? true,
                Flag(root, "sendEvents") ?? true,
                interval);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>What differs from the defaults, for the log line; empty when nothing does.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (!Enabled)
        {
            parts.Add("enabled: false");
        }
        if (!SendFootprints)
        {
            parts.Add("sendFootprints: false");
        }
        if (!SendEvents)
        {
            parts.Add("sendEvents: false");
        }
        if (ExecutionQueryInterval is { } interval)
        {
            parts.Add($"executionQueryIntervalSecs: {interval.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}");
        }
        return string.Join(", ", parts);
    }

    // JSON booleans, and the strings "true"/"false" (a configuration UI may store text).
    private static bool? Flag(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var value) ? null
        : value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when bool.TryParse(value.GetString(), out var parsed) => parsed,
            _ => null,
        };

    private static double? Seconds(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var value) ? null
        : value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetDouble(out var number) => number,
            JsonValueKind.String when double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number) => number,
            _ => null,
        };
}
