using System.Text.Json.Serialization;

namespace Sealights.Lambda.Emulator.Json;

/// <summary>Every error the Lambda APIs return: <c>{"errorMessage","errorType"}</c>.</summary>
internal sealed record ErrorBody(
    [property: JsonPropertyName("errorMessage")] string ErrorMessage,
    [property: JsonPropertyName("errorType")] string ErrorType);

internal sealed record StatusBody([property: JsonPropertyName("status")] string Status);

internal sealed class RegisterRequest
{
    [JsonPropertyName("events")]
    public string[]? Events { get; set; }
}

internal sealed record RegisterResponse(
    [property: JsonPropertyName("functionName")] string FunctionName,
    [property: JsonPropertyName("functionVersion")] string FunctionVersion,
    [property: JsonPropertyName("handler")] string Handler,
    [property: JsonPropertyName("accountId")] string? AccountId);

internal sealed record TracingBody(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("value")] string Value);

internal sealed record InvokeEventBody(
    [property: JsonPropertyName("eventType")] string EventType,
    [property: JsonPropertyName("deadlineMs")] long DeadlineMs,
    [property: JsonPropertyName("requestId")] string RequestId,
    [property: JsonPropertyName("invokedFunctionArn")] string InvokedFunctionArn,
    [property: JsonPropertyName("tracing")] TracingBody Tracing);

internal sealed record ShutdownEventBody(
    [property: JsonPropertyName("eventType")] string EventType,
    [property: JsonPropertyName("deadlineMs")] long DeadlineMs,
    [property: JsonPropertyName("shutdownReason")] string ShutdownReason);

internal sealed class TelemetrySubscribeRequest
{
    [JsonPropertyName("schemaVersion")]
    public string? SchemaVersion { get; set; }

    [JsonPropertyName("types")]
    public string[]? Types { get; set; }

    [JsonPropertyName("buffering")]
    public TelemetryBuffering? Buffering { get; set; }

    [JsonPropertyName("destination")]
    public TelemetryDestination? Destination { get; set; }
}

internal sealed class TelemetryBuffering
{
    [JsonPropertyName("maxItems")]
    public int? MaxItems { get; set; }

    [JsonPropertyName("maxBytes")]
    public int? MaxBytes { get; set; }

    [JsonPropertyName("timeoutMs")]
    public int? TimeoutMs { get; set; }
}

internal sealed class TelemetryDestination
{
    [JsonPropertyName("protocol")]
    public string? Protocol { get; set; }

    [JsonPropertyName("URI")]
    public string? Uri { get; set; }
}
