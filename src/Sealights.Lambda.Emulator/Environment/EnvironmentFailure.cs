namespace Sealights.Lambda.Emulator.Environment;

/// <summary>
/// Why the environment must be reset: what the waiting caller gets, what is printed, what
/// telemetry reports and which shutdown reason the extensions see.
/// </summary>
internal sealed record EnvironmentFailure(
    string ErrorType,
    string ErrorMessage,
    byte[] CallerBody,
    string TelemetryStatus,
    string ShutdownReason,
    long Timestamp,
    bool DuringInit)
{
    /// <summary>The lines Lambda prints for this failure (message, then error type).</summary>
    public IEnumerable<string> LogLines()
    {
        yield return ErrorMessage;
        yield return ErrorType;
    }

    public static EnvironmentFailure Create(string errorType, string errorMessage, string telemetryStatus, string shutdownReason, bool duringInit, byte[]? callerBody = null) =>
        new(errorType, errorMessage, callerBody ?? InvokeResult.ErrorJson(errorType, errorMessage), telemetryStatus, shutdownReason, Clock.Now, duringInit);
}
