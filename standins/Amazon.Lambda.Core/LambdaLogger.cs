namespace Amazon.Lambda.Core;

/// <summary>
/// Static logging for code that has no <see cref="ILambdaContext"/> at hand. Writes to standard
/// output, which Lambda (and the emulator) collect into the function's log.
/// </summary>
public static class LambdaLogger
{
    /// <summary>Writes a message as is (no line terminator is added).</summary>
    public static void Log(string message) => Console.Write(message);

    /// <summary>Writes a message at a level, on its own line. This stand-in does not expand templates.</summary>
    public static void Log(string level, string message, params object[] args) =>
        Console.WriteLine($"[{level}] {message}");

    /// <summary>Writes a message at a level, on its own line.</summary>
    public static void Log(LogLevel level, string message, params object[] args) => Log(level.ToString(), message, args);

    /// <summary>Writes a message and an exception at a level.</summary>
    public static void Log(string level, Exception exception, string message, params object[] args) =>
        Log(level, message + Environment.NewLine + exception, args);

    /// <summary>Writes a message and an exception at a level.</summary>
    public static void Log(LogLevel level, Exception exception, string message, params object[] args) =>
        Log(level.ToString(), exception, message, args);
}
