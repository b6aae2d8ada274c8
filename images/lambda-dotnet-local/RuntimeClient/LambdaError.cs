using System.Text.Json;

namespace Sealights.Lambda.LocalRuntime;

/// <summary>The error document Lambda expects: <c>{errorMessage, errorType, stackTrace[]}</c>.</summary>
internal sealed record LambdaError(string ErrorType, string ErrorMessage, IReadOnlyList<string> StackTrace)
{
    public static LambdaError FromException(Exception exception) =>
        new(
            exception.GetType().Name,
            exception.Message,
            // A rejected handler is a configuration problem: the runtime's own frames would only distract.
            exception is LambdaValidationException ? [] : SplitStackTrace(exception.StackTrace));

    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("errorType", ErrorType);
            writer.WriteString("errorMessage", ErrorMessage);
            writer.WriteStartArray("stackTrace");
            foreach (var line in StackTrace)
            {
                writer.WriteStringValue(line);
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>What goes to stderr, where the function's log stream (and the emulator) picks it up.</summary>
    public string ToLogText()
    {
        var text = $"{ErrorType}: {ErrorMessage}";
        return StackTrace.Count == 0 ? text : text + Environment.NewLine + string.Join(Environment.NewLine, StackTrace.Select(l => "   " + l));
    }

    private static string[] SplitStackTrace(string? stackTrace) =>
        stackTrace is null
            ? []
            : stackTrace.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
