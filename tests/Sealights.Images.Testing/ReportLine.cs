using System.Globalization;
using System.Text.RegularExpressions;

namespace Sealights.Images.Testing;

/// <summary>Whose REPORT line it is, as far as its text tells.</summary>
public enum ReportSource
{
    /// <summary>Our emulator: carries <c>Post-Runtime Extensions Duration</c> and a measured memory peak.</summary>
    SealightsEmulator,

    /// <summary>
    /// AWS's emulator on a cold start: <c>Init Duration</c> before <c>Duration</c>, and it is a
    /// placeholder (about 0.1 ms: its init runs lazily inside the invoke); the real figure is its
    /// <c>INIT REPORT(durationMs: …)</c> line (<see cref="InitReportLine"/>).
    /// </summary>
    AwsRuntimeInterfaceEmulator,

    /// <summary>Real Lambda (CloudWatch): <c>Init Duration</c> after <c>Max Memory Used</c>, or a <c>Status</c> RIE never prints.</summary>
    Lambda,

    /// <summary>A warm line without extra fields: AWS's emulator and Lambda print the same text.</summary>
    AwsRuntimeInterfaceEmulatorOrLambda,
}

/// <summary>
/// One REPORT line, from our emulator, AWS's emulator (RIE) or real Lambda: tab-separated
/// <c>Name: value[ unit]</c> fields after <c>REPORT RequestId: …</c>, in an order that differs
/// between them. Benchmarks and tests read their figures from these. A field a format lacks is null.
/// </summary>
/// <param name="MaxMemoryUsedMb">AWS's emulator prints the configured memory size here, not a measurement.</param>
/// <param name="PostRuntimeExtensionsDurationMs">Our emulator only (Lambda has it as a CloudWatch metric, not on this line).</param>
/// <param name="Status">Lambda's and our emulator's <c>Status</c> of a failed invoke (timeout, error); null when it succeeded.</param>
public sealed partial record ReportLine(
    string RequestId,
    double? InitDurationMs,
    double DurationMs,
    long BilledDurationMs,
    int MemorySizeMb,
    int MaxMemoryUsedMb,
    double? PostRuntimeExtensionsDurationMs,
    string? Status,
    string? ErrorType,
    ReportSource Source)
{
    private const string Prefix = "REPORT RequestId: ";

    public static IReadOnlyList<ReportLine> ParseAll(string logs) =>
        LogLines.Of(logs).Where(l => l.StartsWith(Prefix, StringComparison.Ordinal)).Select(Parse).ToList();

    public static ReportLine Parse(string line)
    {
        var fields = FieldPattern().Matches(line).Select(m => (Name: m.Groups["name"].Value, Value: m.Groups["value"].Value)).ToList();
        string? Field(string name) => fields.FirstOrDefault(f => f.Name == name).Value;
        int IndexOf(string name) => fields.FindIndex(f => f.Name == name);
        double Number(string name) => double.Parse(
            Field(name) ?? throw new FormatException($"REPORT line without '{name}': {line}"), CultureInfo.InvariantCulture);
        double? Optional(string name) => Field(name) is { } value ? double.Parse(value, CultureInfo.InvariantCulture) : null;

        var postRuntime = Optional("Post-Runtime Extensions Duration");
        var status = Field("Status");
        var init = IndexOf("Init Duration");
        var source = postRuntime is not null ? ReportSource.SealightsEmulator
            : init >= 0 && init < IndexOf("Duration") ? ReportSource.AwsRuntimeInterfaceEmulator
            : init >= 0 || status is not null ? ReportSource.Lambda
            : ReportSource.AwsRuntimeInterfaceEmulatorOrLambda;

        return new ReportLine(
            Field("RequestId") ?? throw new FormatException($"not a REPORT line: {line}"),
            Optional("Init Duration"),
            Number("Duration"),
            (long)Number("Billed Duration"),
            (int)Number("Memory Size"),
            (int)Number("Max Memory Used"),
            postRuntime,
            status,
            Field("Error Type"),
            source);
    }

    /// <summary>The init figure this line gives, unless it is AWS's emulator's placeholder.</summary>
    public double? MeasuredInitDurationMs => Source == ReportSource.AwsRuntimeInterfaceEmulator ? null : InitDurationMs;

    // "Name: value[ unit]" fields separated by tabs; the first follows "REPORT ". Lambda's
    // X-Ray fields ("XRAY TraceId: …", "SegmentId: …") read as fields of their own.
    [GeneratedRegex(@"(?:^REPORT |\t)(?<name>[A-Za-z -]+): (?<value>[^\s\t]+)")]
    private static partial Regex FieldPattern();
}
