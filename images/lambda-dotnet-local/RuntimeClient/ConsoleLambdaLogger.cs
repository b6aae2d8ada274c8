using Amazon.Lambda.Core;

namespace Sealights.Lambda.LocalRuntime;

/// <summary>
/// <see cref="ILambdaContext.Logger"/>: lines on standard output in the text format of Lambda's
/// .NET runtime, <c>&lt;timestamp&gt;\t&lt;request id&gt;\t&lt;level&gt;\t&lt;message&gt;</c>.
/// </summary>
internal sealed class ConsoleLambdaLogger(string requestId) : ILambdaLogger
{
    /// <summary>As is, like <c>Console.Write</c>: the caller owns the line breaks.</summary>
    public void Log(string message) => Console.Write(message);

    public void LogLine(string message) => Log(LogLevel.Information.ToString(), message);

    public void Log(string level, string message) =>
        Console.WriteLine(string.Join('\t', LogTimestamp.Now(), requestId, ShortLevel(level), message));

    // The four-letter level names the runtime writes (Error is "fail", as in Microsoft.Extensions.Logging).
    private static string ShortLevel(string level) => level switch
    {
        nameof(LogLevel.Trace) => "trce",
        nameof(LogLevel.Debug) => "dbug",
        nameof(LogLevel.Information) => "info",
        nameof(LogLevel.Warning) => "warn",
        nameof(LogLevel.Error) => "fail",
        nameof(LogLevel.Critical) => "crit",
        _ => level,
    };
}
