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

    public static string StatusFile(string stateDirectory) => Beside(stateDirectory, ".status");

    /// <summary>
    /// Written by the exec wrapper when it started the runtime without a diagnostic port although
    /// the launcher had said "starting" (it waited in vain, or could not read the verdict); it holds
    /// the wrapper's reason, already logged. The launcher empties it at every start.
    /// </summary>
    public static string UntracedFile(string stateDirectory) => Beside(stateDirectory, ".untraced");

    /// <summary>
    /// Tells the exec wrapper to connect the runtime: the agent is about to listen. Written before
    /// listening because the runtime takes ~9 ms from its start to its first connect, and retries.
    /// The word is written to a file of its own and renamed over the status file (rename(2) is
    /// atomic): the wrapper polls that file and must never see it emptied or half-written, which
    /// it would take for "no verdict" (a truncate-then-write left 2 of 139 cold starts untraced).
    /// </summary>
    public static void AnnounceCollecting(string stateDirectory)
    {
        var status = StatusFile(stateDirectory);
        var pending = $"{status}.{Environment.ProcessId}";
        File.WriteAllText(pending, Collecting + "\n");
        File.Move(pending, status, overwrite: true);
    }

    /// <summary>
    /// The exec wrapper's reason for starting the runtime untraced, when it gave one in this
    /// environment (it then logged it itself); null otherwise or when it cannot be read.
    /// </summary>
    public static string? UntracedByWrapper(string stateDirectory)
    {
        try
        {
            var reason = File.ReadAllText(UntracedFile(stateDirectory)).Trim();
            return reason.Length == 0 ? null : reason;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

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

    // Beside the state folder, not in it: the launcher (bash) cannot create the folder without forking mkdir.
    private static string Beside(string stateDirectory, string suffix) => Path.TrimEndingDirectorySeparator(stateDirectory) + suffix;
}
