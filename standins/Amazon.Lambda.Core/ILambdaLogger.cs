namespace Amazon.Lambda.Core;

/// <summary>
/// The logger the runtime hands to a function (<see cref="ILambdaContext.Logger"/>). Only
/// <see cref="Log(string)"/> and <see cref="LogLine(string)"/> must be implemented; the level
/// methods default to <see cref="Log(string, string)"/>, which defaults to <see cref="LogLine(string)"/>.
/// </summary>
public interface ILambdaLogger
{
    /// <summary>Writes a message to the function's log.</summary>
    void Log(string message);

    /// <summary>Writes a message and a line terminator to the function's log.</summary>
    void LogLine(string message);

    /// <summary>Writes a message at a level (a level name such as <c>Information</c>).</summary>
    void Log(string level, string message) => LogLine(message);

    /// <summary>Writes a message at a level.</summary>
    void Log(LogLevel level, string message) => Log(level.ToString(), message);

    /// <summary>Writes a message template at a level. This stand-in does not expand templates.</summary>
    void Log(string level, string message, params object[] args) => Log(level, message);

    /// <summary>Writes a message template and an exception at a level.</summary>
    void Log(string level, Exception exception, string message, params object[] args) =>
        Log(level, message + Environment.NewLine + exception);

    /// <summary>Writes a message template at a level.</summary>
    void Log(LogLevel level, string message, params object[] args) => Log(level.ToString(), message, args);

    /// <summary>Writes a message template and an exception at a level.</summary>
    void Log(LogLevel level, Exception exception, string message, params object[] args) =>
        Log(level.ToString(), exception, message, args);

    /// <summary>Writes a trace message.</summary>
    void LogTrace(string message) => Log(LogLevel.Trace, message);

    /// <summary>Writes a debug message.</summary>
    void LogDebug(string message) => Log(LogLevel.Debug, message);

    /// <summary>Writes an information message.</summary>
    void LogInformation(string message) => Log(LogLevel.Information, message);

    /// <summary>Writes a warning.</summary>
    void LogWarning(string message) => Log(LogLevel.Warning, message);

    /// <summary>Writes an error message.</summary>
    void LogError(string message) => Log(LogLevel.Error, message);

    /// <summary>Writes a critical message.</summary>
    void LogCritical(string message) => Log(LogLevel.Critical, message);

    /// <summary>Writes a trace message template.</summary>
    void LogTrace(string message, params object[] args) => Log(LogLevel.Trace, message, args);

    /// <summary>Writes a debug message template.</summary>
    void LogDebug(string message, params object[] args) => Log(LogLevel.Debug, message, args);

    /// <summary>Writes an information message template.</summary>
    void LogInformation(string message, params object[] args) => Log(LogLevel.Information, message, args);

    /// <summary>Writes a warning message template.</summary>
    void LogWarning(string message, params object[] args) => Log(LogLevel.Warning, message, args);

    /// <summary>Writes an error message template.</summary>
    void LogError(string message, params object[] args) => Log(LogLevel.Error, message, args);

    /// <summary>Writes a critical message template.</summary>
    void LogCritical(string message, params object[] args) => Log(LogLevel.Critical, message, args);

    /// <summary>Writes a trace message template with an exception.</summary>
    void LogTrace(Exception exception, string message, params object[] args) => Log(LogLevel.Trace, exception, message, args);

    /// <summary>Writes a debug message template with an exception.</summary>
    void LogDebug(Exception exception, string message, params object[] args) => Log(LogLevel.Debug, exception, message, args);

    /// <summary>Writes an information message template with an exception.</summary>
    void LogInformation(Exception exception, string message, params object[] args) => Log(LogLevel.Information, exception, message, args);

    /// <summary>Writes a warning message template with an exception.</summary>
    void LogWarning(Exception exception, string message, params object[] args) => Log(LogLevel.Warning, exception, message, args);

    /// <summary>Writes an error message template with an exception.</summary>
    void LogError(Exception exception, string message, params object[] args) => Log(LogLevel.Error, exception, message, args);

    /// <summary>Writes a critical message template with an exception.</summary>
    void LogCritical(Exception exception, string message, params object[] args) => Log(LogLevel.Critical, exception, message, args);
}
