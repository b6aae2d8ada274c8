namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>
/// How the agent process tells its launcher (/opt/extensions/sealights-agent) what to do next.
/// Lambda treats ANY exit of the extension process before SHUTDOWN as a crash, so the launcher
/// stays alive and keeps the extension registered and well-behaved whatever the agent does.
/// </summary>
public static class AgentExitCodes
{
    /// <summary>SHUTDOWN handled; the launcher exits too.</summary>
    public const int ShutdownComplete = 0;

    /// <summary>Not meant to run (bad configuration, or nothing to listen with): the launcher keeps the extension registered without coverage.</summary>
    public const int Inert = 78;

    /// <summary>Failed: the launcher keeps the extension registered without coverage.</summary>
    public const int Failed = 70;
}
