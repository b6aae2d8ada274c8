using Sealights.Coverage.Tokens;

namespace Sealights.Lambda.Agent.Configuration;

/// <summary>
/// The agent's configuration, read once at start from the extension's environment. Lambda hides
/// the function's handler variables from extensions, but every variable the customer sets on the
/// function is visible here.
/// </summary>
public sealed record AgentOptions
{
    public const string DefaultStateDirectory = "/tmp/.sealights-agent";

    public bool Enabled { get; init; }

    /// <summary>Why the agent is inert, as one actionable sentence; null when enabled.</summary>
    public string? DisabledReason { get; init; }

    public SealightsToken? Token { get; init; }

    public AgentLogLevel LogLevel { get; init; } = AgentLogLevel.Info;

    /// <summary>Where the function's code is; extensions cannot see LAMBDA_TASK_ROOT, so it is fixed.</summary>
    public string TaskRoot { get; init; } = "/var/task";

    /// <summary>Private (0700) folder for the diagnostic socket and the launcher's hand-over files.</summary>
    public string StateDirectory { get; init; } = DefaultStateDirectory;

    /// <summary>Debug mode: method hits are appended here as JSON lines.</summary>
    public string? HitsDumpFile { get; init; }

    /// <summary>
    /// Local mode: no token, but <see cref="HitsDumpFile"/> is set. Hits go to that file only and
    /// nothing is sent anywhere, so nothing needs a token (a local <c>sl-images collect</c> does:
    /// <c>sl-images local-token</c>).
    /// </summary>
    public bool LocalOnly => Enabled && Token is null;

    public static AgentOptions FromEnvironment(Func<string, string?> getVariable)
    {
        var logLevel = AgentLog.ParseLevel(getVariable("SL_LOG_LEVEL"));
        var common = new AgentOptions
        {
            LogLevel = logLevel,
            StateDirectory = NonEmpty(getVariable("SL_AGENT_STATE_DIR")) ?? DefaultStateDirectory,
            TaskRoot = NonEmpty(getVariable("SL_TASK_ROOT")) ?? "/var/task",
            HitsDumpFile = NonEmpty(getVariable("SL_DEBUG_HITS_FILE")),
        };

        // The launcher (layer/extensions/sealights-agent) makes the SL_ENABLED and "no token"
        // decisions itself, with these exact words, so as not to start this process for them:
        // change both together.
        var enabled = NonEmpty(getVariable("SL_ENABLED"));
        if (enabled is not null && !(BooleanSetting.TryParse(enabled, out var on) && on))
        {
            return common with { DisabledReason = $"SL_ENABLED={enabled}" };
        }

        var rawToken = NonEmpty(getVariable("SL_TOKEN"));
        var tokenFile = NonEmpty(getVariable("SL_TOKEN_FILE"));
        if (rawToken is null && tokenFile is not null)
        {
            try
            {
                rawToken = File.ReadAllText(tokenFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return common with { DisabledReason = $"SL_TOKEN_FILE {tokenFile} cannot be read ({e.GetType().Name})" };
            }
        }
        if (rawToken is null)
        {
            // The launcher and the image's entrypoint make the same decision: change all three together.
            return common.HitsDumpFile is null
                ? common with { DisabledReason = "no token: set SL_TOKEN or SL_TOKEN_FILE on the function" }
                : common with { Enabled = true };
        }
        if (!SealightsToken.TryParse(rawToken, out var token, out var problem))
        {
            return common with { DisabledReason = $"SL_TOKEN is not usable: {problem}" };
        }
        return common with { Enabled = true, Token = token };
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
