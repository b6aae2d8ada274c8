namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>
/// What the agent and its launcher (/opt/extensions/sealights-agent) hand each other when the
/// launcher registers the extension itself, so that the agent's process start overlaps Lambda
/// starting the function's runtime: the extension identifier comes on the agent's standard input,
/// and the agent's verdict goes to the status file (<c>&lt;state folder&gt;.status</c>) that the
/// exec wrapper waits for before it starts the runtime.
/// </summary>
public static class LauncherHandOver
{
    /// <summary>The agent's command-line switch for this mode.</summary>
    public const string Switch = "--extension-id-on-stdin";

    /// <summary>The status file's word for "connect the runtime to the agent".</summary>
    public const string Collecting = "on";

    public static string StatusFile(string stateDirectory) => Path.TrimEndingDirectorySeparator(stateDirectory) + ".status";

    /// <summary>
    /// Tells the exec wrapper to connect the runtime: the agent is about to listen. Written before
    /// listening because the runtime takes ~9 ms from its start to its first connect, and retries.
    /// </summary>
    public static void AnnounceCollecting(string stateDirectory) =>
        File.WriteAllText(StatusFile(stateDirectory), Collecting + "\n");

    /// <summary>
    /// The identifier the launcher registered with, from standard input; null when the launcher
    /// closed it without one (it could not register). Blocks until the launcher has written it,
    /// which it does right after registering, long before the agent asks.
    /// </summary>
    public static string? ReadIdentifier(TextReader input)
    {
        var line = input.ReadLine()?.Trim();
        return string.IsNullOrEmpty(line) ? null : line;
    }
}
