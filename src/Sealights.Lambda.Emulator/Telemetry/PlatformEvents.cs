using Sealights.Lambda.Emulator.Environment;
using Sealights.Lambda.Emulator.Hosting;
using Sealights.Lambda.Emulator.Json;

namespace Sealights.Lambda.Emulator.Telemetry;

/// <summary>The platform.* Telemetry API events, in Lambda's shapes.</summary>
internal sealed class PlatformEvents
{
    private const string OnDemand = "on-demand";
    private const string InitPhase = "init";

    private readonly TelemetryDispatcher _dispatcher;
    private readonly FunctionConfiguration _function;

    public PlatformEvents(TelemetryDispatcher dispatcher, FunctionConfiguration function)
    {
        _dispatcher = dispatcher;
        _function = function;
    }

    public void InitStart() => _dispatcher.EmitPlatform("platform.initStart",
        new InitStartRecord(OnDemand, InitPhase, _function.Name, _function.Version, null),
        EmulatorJsonContext.Default.InitStartRecord);

    public void InitRuntimeDone(string status, string? errorType) => _dispatcher.EmitPlatform("platform.initRuntimeDone",
        new InitRuntimeDoneRecord(OnDemand, InitPhase, status, errorType),
        EmulatorJsonContext.Default.InitRuntimeDoneRecord);

    public void InitReport(string status, string? errorType, double durationMs) => _dispatcher.EmitPlatform("platform.initReport",
        new InitReportRecord(OnDemand, InitPhase, status, errorType, new DurationMetrics(Round(durationMs))),
        EmulatorJsonContext.Default.InitReportRecord);

    public void Start(string requestId, string traceId) => _dispatcher.EmitPlatform("platform.start",
        new StartRecord(requestId, _function.Version, Tracing(traceId)),
        EmulatorJsonContext.Default.StartRecord);

    public void RuntimeDone(string requestId, string status, string? errorType, double durationMs, long producedBytes, string traceId) =>
        _dispatcher.EmitPlatform("platform.runtimeDone",
            new RuntimeDoneRecord(requestId, status, errorType, new RuntimeDoneMetrics(Round(durationMs), producedBytes), Tracing(traceId)),
            EmulatorJsonContext.Default.RuntimeDoneRecord);

    public void Report(InvocationReport report, string status, string? errorType, string traceId) => _dispatcher.EmitPlatform("platform.report",
        new ReportRecord(report.RequestId, status, errorType,
            new ReportMetrics(Round(report.DurationMs), report.BilledDurationMs, report.MemorySizeMb, report.MaxMemoryUsedMb,
                report.InitDurationMs is { } init ? Round(init) : null),
            Tracing(traceId)),
        EmulatorJsonContext.Default.ReportRecord);

    public void Extension(string name, IReadOnlyList<string> events) => _dispatcher.EmitPlatform("platform.extension",
        new ExtensionRecord(name, "Ready", [.. events]),
        EmulatorJsonContext.Default.ExtensionRecord);

    public void Subscription(string name, IReadOnlyList<string> types) => _dispatcher.EmitPlatform("platform.telemetrySubscription",
        new SubscriptionRecord(name, "Subscribed", [.. types]),
        EmulatorJsonContext.Default.SubscriptionRecord);

    private static TracingBody Tracing(string traceId) => new("X-Amzn-Trace-Id", traceId);

    private static double Round(double milliseconds) => Math.Round(milliseconds, 3);
}
