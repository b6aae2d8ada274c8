using System.Reflection;
using Sealights.Lambda.Agent.Footprints;

namespace Sealights.Lambda.Agent.Delivery;

/// <summary>
/// Who the agent is, as far as it knows: sent as <c>meta.agentConfig</c> with collector footprints.
/// App, branch and build names are unknown at start; whatever learns them (the build session's
/// validation) sets them here, at any time, from any thread. Unknown values are left out of the wire.
/// </summary>
public sealed class AgentIdentity
{
    /// <summary>The agent type reported to Sealights (slnodejs reports <c>TestListener</c> in its metadata).</summary>
    public const string DefaultAgentType = "TestListener";

    private readonly object _gate = new();
    private string? _appName;
    private string? _branchName;
    private string? _buildName;

    public AgentIdentity(string agentVersion, string agentType = DefaultAgentType)
    {
        AgentVersion = agentVersion;
        AgentType = agentType;
    }

    /// <summary>This agent binary's version (its assembly's informational version, without build metadata).</summary>
    public static string CurrentAgentVersion
    {
        get
        {
            var version = typeof(AgentIdentity).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                ?? typeof(AgentIdentity).Assembly.GetName().Version?.ToString()
                ?? "0.0.0";
            var plus = version.IndexOf('+');
            return plus < 0 ? version : version[..plus];
        }
    }

    public string AgentVersion { get; }

    public string AgentType { get; }

    /// <summary>The build session's app, branch and build names (null: not known yet).</summary>
    public void SetBuild(string? appName, string? branchName, string? buildName)
    {
        lock (_gate)
        {
            _appName = Blank(appName) ? null : appName;
            _branchName = Blank(branchName) ? null : branchName;
            _buildName = Blank(buildName) ? null : buildName;
        }
    }

    public (string? AppName, string? BranchName, string? BuildName) Build
    {
        get
        {
            lock (_gate)
            {
                return (_appName, _branchName, _buildName);
            }
        }
    }

    /// <summary>The collector's <c>meta.agentConfig</c> for these options, with what is known now.</summary>
    public AgentConfigMeta ToAgentConfig(DeliveryOptions options)
    {
        var (app, branch, build) = Build;
        return new AgentConfigMeta
        {
            AgentId = options.AgentId,
            AppName = app,
            Build = build,
            Branch = branch,
            BuildSessionId = options.BuildSessionId,
            LabId = options.LabId,
            AgentVersion = AgentVersion,
            AgentType = AgentType,
        };
    }

    private static bool Blank(string? value) => string.IsNullOrWhiteSpace(value);
}
