namespace Amazon.Lambda.Core;

/// <summary>
/// Static logging for code that has no <see cref="ILambdaContext"/> at hand. Writes to standard
/// output, which Lambda (and the emulator) collect into the function's log.
/// </summary>
public static class LambdaLogger
{
    // Field names and types are a contract: AWS's runtime client replaces these actions by
    // reflection when it loads Amazon.Lambda.Core, and fails init if a field is missing.
    private static Action<string> _loggingAction = message => Console.Write(message);
    private static Action<string, string, object[]> _loggingWithLevelAction =
        (level, message, _) => Console.WriteLine($"[{level}] {message}");
    private static Action<string, Exception, string, object[]> _loggingWithLevelAndExceptionAction =
        (level, exception, message, _) => Console.WriteLine($"[{level}] {message}{Environment.NewLine}{exception}");

    /// <summary>Writes a message as is (no line terminator is added).</summary>
    public static void Log(string message) => _loggingAction(message);

    /// <summary>Writes a message at a level, on its own line. This stand-in does not expand templates.</summary>
    public static void Log(string level, string message, params object[] args) => _loggingWithLevelAction(level, message, args);

    /// <summary>Writes a message at a level, on its own line.</summary>
    public static void Log(LogLevel level, string message, params object[] args) => Log(level.ToString(), message, args);

    /// <summary>Writes a message and an exception at a level.</summary>
    public static void Log(string level, Exception exception, string message, params object[] args) =>
        _loggingWithLevelAndExceptionAction(level, exception, message, args);

    /// <summary>Writes a message and an exception at a level.</summary>
    public static void Log(LogLevel level, Exception exception, string message, params object[] args) =>
        Log(level.ToString(), exception, message, args);
}
