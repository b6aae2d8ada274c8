using System.Globalization;
using Sealights.Lambda.Emulator.Hosting;

namespace Sealights.Lambda.Emulator.Environment;

/// <summary>The figures of one REPORT line.</summary>
internal sealed record InvocationReport(
    string RequestId,
    double? InitDurationMs,
    double DurationMs,
    int MemorySizeMb,
    long MaxMemoryUsedMb,
    double PostRuntimeExtensionsDurationMs,
    string Status,
    string? ErrorType)
{
    /// <summary>
    /// Lambda bills the invoke's duration rounded up to the millisecond; container-image
    /// functions are billed for their init too, so a cold start adds the init, rounded up.
    /// Computed from the printed (2-decimal) figures, so that a REPORT line adds up.
    /// </summary>
    public long BilledDurationMs =>
        CeilingOfPrinted(DurationMs) + (InitDurationMs is { } init ? CeilingOfPrinted(init) : 0);

    private static long CeilingOfPrinted(double milliseconds) =>
        (long)Math.Ceiling(double.Parse(milliseconds.ToString("F2", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
}

/// <summary>Writes the platform lines benchmarks and tests read: START, END, REPORT, INIT_REPORT.</summary>
internal sealed class ReportWriter
{
    private readonly EmulatorLog _log;
    private readonly string _version;

    public ReportWriter(EmulatorLog log, string version)
    {
        _log = log;
        _version = version;
    }

    public void Start(string requestId) => _log.Platform($"START RequestId: {requestId} Version: {_version}");

    public void End(string requestId) => _log.Platform($"END RequestId: {requestId}");

    /// <summary>RIE's shape (tab separated); a failed invoke adds Lambda's "Status" (and "Error Type").</summary>
    public void Report(InvocationReport report) => _log.Platform(Format(report));

    /// <summary>Lambda's line for an init that failed.</summary>
    public void InitReport(double initDurationMs, string status, string? errorType) =>
        _log.Platform(FormattableString.Invariant($"INIT_REPORT Init Duration: {initDurationMs:F2} ms\tPhase: init\tStatus: {status}")
            + (errorType is null ? "" : $"\tError Type: {errorType}"));

    public static string Format(InvocationReport r)
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"REPORT RequestId: {r.RequestId}\t{(r.InitDurationMs is { } init ? FormattableString.Invariant($"Init Duration: {init:F2} ms\t") : "")}Duration: {r.DurationMs:F2} ms\tBilled Duration: {r.BilledDurationMs} ms\tMemory Size: {r.MemorySizeMb} MB\tMax Memory Used: {r.MaxMemoryUsedMb} MB\tPost-Runtime Extensions Duration: {r.PostRuntimeExtensionsDurationMs:F2} ms");
        if (r.Status != "success")
        {
            line += $"\tStatus: {r.Status}" + (r.ErrorType is null ? "" : $"\tError Type: {r.ErrorType}");
        }
        return line;
    }
}
