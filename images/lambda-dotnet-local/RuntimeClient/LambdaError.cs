using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Sealights.Lambda.LocalRuntime;

/// <summary>
/// An exception as Lambda's .NET runtime reports it: the indented error document
/// <c>{errorType, errorMessage, stackTrace[], cause?}</c> and the <c>fail</c> log line.
/// </summary>
internal sealed class LambdaError
{
    // Relaxed escaping: a generic frame reads Func`1 as in the exception text, not Func\u00601.
    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Exception exception;

    private LambdaError(Exception exception) => this.exception = exception;

    /// <summary>The short type name, as in the <c>Lambda-Runtime-Function-Error-Type</c> header and <c>errorType</c>.</summary>
    public string ErrorType => exception.GetType().Name;

    public static LambdaError FromException(Exception exception) => new(exception);

    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Indented))
        {
            Write(writer, exception);
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// <c>&lt;timestamp&gt;\t&lt;request id&gt;\tfail\t&lt;full type&gt;: &lt;message&gt;</c> and the stack, as
    /// RuntimeSupport logs an error (request id empty during init).
    /// </summary>
    public string ToLogLine(string? requestId) =>
        string.Join('\t', LogTimestamp.Now(), requestId ?? "", "fail", exception.ToString());

    private static void Write(Utf8JsonWriter writer, Exception exception)
    {
        writer.WriteStartObject();
        writer.WriteString("errorType", exception.GetType().Name);
        writer.WriteString("errorMessage", exception.Message);
        writer.WriteStartArray("stackTrace");
        // A rejected handler is a configuration problem: the runtime's own frames would only distract.
        if (exception is not LambdaValidationException)
        {
            foreach (var frame in SplitStackTrace(exception.StackTrace))
            {
                writer.WriteStringValue(frame);
            }
        }
        writer.WriteEndArray();
        if (exception.InnerException is { } inner)
        {
            writer.WritePropertyName("cause");
            Write(writer, inner);
        }
        writer.WriteEndObject();
    }

    private static string[] SplitStackTrace(string? stackTrace) =>
        stackTrace is null
            ? []
            : stackTrace.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>The timestamp at the start of Lambda's .NET log lines (UTC, milliseconds).</summary>
internal static class LogTimestamp
{
    public static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
