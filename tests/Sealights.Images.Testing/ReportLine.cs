using System.Globalization;
using System.Text.RegularExpressions;

namespace Sealights.Images.Testing;

/// <summary>
/// One REPORT line of the emulator (same fields as Lambda's, tab-separated, plus the
/// post-runtime extension time). Benchmarks and tests read their figures from these.
/// </summary>
public sealed partial record ReportLine(
    string RequestId,
    double? InitDurationMs,
    double DurationMs,
    long BilledDurationMs,
    int MemorySizeMb,
    int MaxMemoryUsedMb,
    double PostRuntimeExtensionsDurationMs)
{
    public static IReadOnlyList<ReportLine> ParseAll(string logs) =>
        logs.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("REPORT RequestId: ", StringComparison.Ordinal)).Select(Parse).ToList();

    public static ReportLine Parse(string line)
    {
        string? Field(string name)
        {
            var match = FieldPattern().Matches(line).FirstOrDefault(m => m.Groups["name"].Value == name);
            return match?.Groups["value"].Value;
        }
        double Number(string name) => double.Parse(
            Field(name) ?? throw new FormatException($"REPORT line without '{name}': {line}"), CultureInfo.InvariantCulture);

        return new ReportLine(
            Field("RequestId") ?? throw new FormatException($"not a REPORT line: {line}"),
            Field("Init Duration") is { } init ? double.Parse(init, CultureInfo.InvariantCulture) : null,
            Number("Duration"),
            (long)Number("Billed Duration"),
            (int)Number("Memory Size"),
            (int)Number("Max Memory Used"),
            Number("Post-Runtime Extensions Duration"));
    }

    // "Name: value[ unit]" fields separated by tabs; the first follows "REPORT ".
    [GeneratedRegex(@"(?:^REPORT |\t)(?<name>[A-Za-z -]+): (?<value>[^\s\t]+)")]
    private static partial Regex FieldPattern();
}
