namespace Sealights.Images.Cli.Commands;

/// <summary>Exit codes shared by every verb, so CI scripts can branch on them.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The verb ran and found a problem worth failing a pipeline for (e.g. nothing to scan, a build map already uploaded).</summary>
    public const int Finding = 1;

    /// <summary>Bad input: missing folder, unreadable file, wrong option, a token Sealights' agents refuse.</summary>
    public const int InvalidInput = 2;

    /// <summary>The Sealights backend could not be reached or answered with an error.</summary>
    public const int BackendError = 3;
}
