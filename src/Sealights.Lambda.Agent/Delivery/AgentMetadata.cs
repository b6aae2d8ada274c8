using System.Reflection;
using System.Text;
using System.Text.Json;
using Sealights.Lambda.Agent.Footprints;

namespace Sealights.Lambda.Agent.Delivery;

/// <summary>
/// Who the agent is, as every request tells Sealights: the <c>x-sl-appName</c>,
/// <c>x-sl-branchName</c>, <c>x-sl-buildName</c> headers (once the build session's validation
/// named them) and <c>sl-metadata</c>, the same facts as one JSON object, as slnodejs 6.1.1133
/// sends them, and collector footprints' <c>meta.agentConfig</c>. Values not known are left out.
/// Learnt in the background by <see cref="LifecycleCalls"/>, read by every request builder: a
/// snapshot swapped whole.
/// </summary>
public sealed class AgentMetadata
{
    /// <summary>
    /// The agent's type. slnodejs says <c>TestListener</c> for its agent inside the application
    /// (<c>slnodejs</c> and <c>BuildScanner</c> are its CLI and scanner): this agent has that role,
    /// so the service files it with its other test listeners; that it runs as a Lambda extension
    /// is said in the start event's <c>techSpecificInfo</c>.
    /// </summary>
    public const string AgentType = "TestListener";

    /// <summary><c>agentTechnology</c> / <c>technology</c>: the code it covers is .NET.</summary>
    public const string Technology = "dotnet";

    public const string AppNameHeader = "x-sl-appName";
    public const string BranchNameHeader = "x-sl-branchName";
    public const string BuildNameHeader = "x-sl-buildName";
    public const string MetadataHeader = "sl-metadata";

    private Snapshot _current = new(null, null, null, null);

    /// <summary>The agent's version (the assembly's informational version, without a source revision suffix).</summary>
    public static string AgentVersion { get; } = ReadAgentVersion();

    public string? AppName => Volatile.Read(ref _current).AppName;

    public string? BranchName => Volatile.Read(ref _current).BranchName;

    public string? BuildName => Volatile.Read(ref _current).BuildName;

    public string? ExecutionId => Volatile.Read(ref _current).ExecutionId;

    private long _executionQueryIntervalTicks;

    /// <summary>The remote configuration's <c>executionQueryIntervalSecs</c>, when it set one (read by <see cref="DeliveryOptions.ExecutionRefreshInterval"/>).</summary>
    public TimeSpan? ExecutionQueryInterval
    {
        get => Interlocked.Read(ref _executionQueryIntervalTicks) is var ticks && ticks > 0 ? TimeSpan.FromTicks(ticks) : null;
        set => Interlocked.Exchange(ref _executionQueryIntervalTicks, value is { Ticks: > 0 } interval ? interval.Ticks : 0);
    }

    /// <summary>Names from the build session's validation; a null keeps what is known.</summary>
    public void Learn(string? appName, string? branchName, string? buildName)
    {
        Update(now => now with { AppName = appName ?? now.AppName, BranchName = branchName ?? now.BranchName, BuildName = buildName ?? now.BuildName, Json = null });
    }

    /// <summary>The last execution seen (slnodejs keeps an ended one until it sees the next).</summary>
    public void SawExecution(string? executionId)
    {
        if (executionId is null)
        {
            return;
        }
        Update(now => executionId == now.ExecutionId ? now : now with { ExecutionId = executionId, Json = null });
    }

    /// <summary>Adds the name headers (those known, and ASCII: a header cannot carry more) and <c>sl-metadata</c>.</summary>
    public void AddHeaders(HttpRequestMessage request, DeliveryOptions options)
    {
        var snapshot = Volatile.Read(ref _current);
        AddIfUsable(request, AppNameHeader, snapshot.AppName);
        AddIfUsable(request, BranchNameHeader, snapshot.BranchName);
        AddIfUsable(request, BuildNameHeader, snapshot.BuildName);
        request.Headers.TryAddWithoutValidation(MetadataHeader, MetadataJson(options));
    }

    /// <summary>The collector's <c>meta.agentConfig</c>, with the names known now.</summary>
    public AgentConfigMeta ToAgentConfig(DeliveryOptions options)
    {
        var snapshot = Volatile.Read(ref _current);
        return new AgentConfigMeta
        {
            AgentId = options.AgentId,
            AppName = snapshot.AppName,
            Build = snapshot.BuildName,
            Branch = snapshot.BranchName,
            BuildSessionId = options.BuildSessionId,
            LabId = options.LabId,
            AgentVersion = AgentVersion,
            AgentType = AgentType,
        };
    }

    /// <summary>
    /// The <c>sl-metadata</c> object, keys in slnodejs' order:
    /// <c>labId, appName, branchName, buildName, agentId, buildSessionId, agentType, agentTechnology, agentVersion, executionId</c>.
    /// Non-ASCII is escaped (<c>\uXXXX</c>), so it is always a valid header value.
    /// </summary>
    public string MetadataJson(DeliveryOptions options)
    {
        var snapshot = Volatile.Read(ref _current);
        if (snapshot.Json is { } cached && ReferenceEquals(cached.Options, options))
        {
            return cached.Text;
        }
        using var buffer = new MemoryStream(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("labId", options.LabId);
            WriteIfKnown(json, "appName", snapshot.AppName);
            WriteIfKnown(json, "branchName", snapshot.BranchName);
            WriteIfKnown(json, "buildName", snapshot.BuildName);
            json.WriteString("agentId", options.AgentId);
            json.WriteString("buildSessionId", options.BuildSessionId);
            json.WriteString("agentType", AgentType);
            json.WriteString("agentTechnology", Technology);
            json.WriteString("agentVersion", AgentVersion);
            WriteIfKnown(json, "executionId", snapshot.ExecutionId);
            json.WriteEndObject();
        }
        var text = Encoding.UTF8.GetString(buffer.ToArray());
        // Cached for these options (tests may share one metadata between copies of the options),
        // unless something was learnt meanwhile: that newer snapshot must not be overwritten.
        Interlocked.CompareExchange(ref _current, snapshot with { Json = new CachedJson(options, text) }, snapshot);
        return text;
    }

    // Lock-free: readers take whole snapshots; a change retries on a concurrent one.
    private void Update(Func<Snapshot, Snapshot> change)
    {
        while (true)
        {
            var now = Volatile.Read(ref _current);
            if (ReferenceEquals(Interlocked.CompareExchange(ref _current, change(now), now), now))
            {
                return;
            }
        }
    }

    private static string ReadAgentVersion()
    {
        var assembly = typeof(AgentMetadata).Assembly;
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString()
            ?? "0.0.0";
        var plus = version.IndexOf('+');
        return plus < 0 ? version : version[..plus];
    }

    internal static void WriteIfKnown(Utf8JsonWriter json, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            json.WriteString(name, value);
        }
    }

    private static void AddIfUsable(HttpRequestMessage request, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value) && value.All(c => c is >= ' ' and <= '~'))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
    }

    private sealed record CachedJson(DeliveryOptions Options, string Text);

    private sealed record Snapshot(string? AppName, string? BranchName, string? BuildName, string? ExecutionId)
    {
        public CachedJson? Json { get; init; }
    }
}
