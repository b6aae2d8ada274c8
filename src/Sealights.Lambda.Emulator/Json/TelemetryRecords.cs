using System.Text.Json.Serialization;

namespace Sealights.Lambda.Emulator.Json;

// The "record" objects of Telemetry API platform events (schema 2022-12-13). Optional
// members are null and left out of the JSON.

internal sealed record InitStartRecord(
    [property: JsonPropertyName("initializationType")] string InitializationType,
    [property: JsonPropertyName("phase")] string Phase,
    [property: JsonPropertyName("functionName")] string FunctionName,
    [property: JsonPropertyName("functionVersion")] string FunctionVersion,
    [property: JsonPropertyName("runtimeVersion")] string? RuntimeVersion);

internal sealed record InitRuntimeDoneRecord(
    [property: JsonPropertyName("initializationType")] string InitializationType,
    [property: JsonPropertyName("phase")] string Phase,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("errorType")] string? ErrorType);

internal sealed record InitReportRecord(
    [property: JsonPropertyName("initializationType")] string InitializationType,
    [property: JsonPropertyName("phase")] string Phase,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("errorType")] string? ErrorType,
    [property: JsonPropertyName("metrics")] DurationMetrics Metrics);

internal sealed record DurationMetrics([property: JsonPropertyName("durationMs")] double DurationMs);

internal sealed record StartRecord(
    [property: JsonPropertyName("requestId")] string RequestId,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("tracing")] TracingBody? Tracing);

internal sealed record RuntimeDoneRecord(
    [property: JsonPropertyName("requestId")] string RequestId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("errorType")] string? ErrorType,
    [property: JsonPropertyName("metrics")] RuntimeDoneMetrics Metrics,
    [property: JsonPropertyName("tracing")] TracingBody? Tracing);

internal sealed record RuntimeDoneMetrics(
    [property: JsonPropertyName("durationMs")] double DurationMs,
    [property: JsonPropertyName("producedBytes")] long ProducedBytes);

internal sealed record ReportRecord(
    [property: JsonPropertyName("requestId")] string RequestId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("errorType")] string? ErrorType,
    [property: JsonPropertyName("metrics")] ReportMetrics Metrics,
    [property: JsonPropertyName("tracing")] TracingBody? Tracing);

internal sealed record ReportMetrics(
    [property: JsonPropertyName("durationMs")] double DurationMs,
    [property: JsonPropertyName("billedDurationMs")] long BilledDurationMs,
    [property: JsonPropertyName("memorySizeMB")] int MemorySizeMb,
    [property: JsonPropertyName("maxMemoryUsedMB")] long MaxMemoryUsedMb,
    [property: JsonPropertyName("initDurationMs")] double? InitDurationMs);

internal sealed record ExtensionRecord(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("events")] string[] Events);

internal sealed record SubscriptionRecord(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("types")] string[] Types);
