using System.Globalization;
using System.Text.RegularExpressions;

namespace Sealights.Images.Testing;

/// <summary>
/// The report of an init, in either shape:
/// <list type="bullet">
/// <item>Lambda's and our emulator's <c>INIT_REPORT Init Duration: 12.34 ms\tPhase: init\tStatus: error[\tError Type: T]</c>
/// (our emulator prints it for a failed init only; Lambda also for an init it retries in the invoke phase);</item>
/// <item>AWS's emulator's internal log line <c>… [INFO] (rapid) INIT REPORT(durationMs: 412.345000)</c> after every init
/// (later versions add <c>initType</c>, <c>status</c>, <c>phase</c>, <c>errorType</c> in the same parentheses).</item>
/// </list>
/// A field the line lacks is null.
/// </summary>
public sealed partial record InitReportLine(double DurationMs, string? Phase, string? Status, string? ErrorType)
{
    public static IReadOnlyList<InitReportLine> ParseAll(string logs) =>
        LogLines.Of(logs).Select(TryParse).OfType<InitReportLine>().ToList();

    /// <summary>Null for a line that is neither shape.</summary>
    public static InitReportLine? TryParse(string line)
    {
        if (line.StartsWith("INIT_REPORT ", StringComparison.Ordinal))
        {
            var fields = TabFields().Matches(line).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["value"].Value);
            return fields.TryGetValue("Init Duration", out var duration)
                ? new InitReportLine(Number(duration), fields.GetValueOrDefault("Phase"), fields.GetValueOrDefault("Status"), fields.GetValueOrDefault("Error Type"))
                : null;
        }
        // AWS's emulator logs it after a timestamp, level and "(rapid)": found anywhere on the line.
        if (RapidInitReport().Match(line) is { Success: true } rapid)
        {
            var fields = rapid.Groups["fields"].Value.Split(',', StringSplitOptions.TrimEntries)
                .Select(f => f.Split(": ", 2))
                .Where(p => p.Length == 2)
                .ToDictionary(p => p[0], p => p[1]);
            return fields.TryGetValue("durationMs", out var duration)
                ? new InitReportLine(Number(duration), fields.GetValueOrDefault("phase"), fields.GetValueOrDefault("status"), NullIfEmpty(fields.GetValueOrDefault("errorType")))
                : null;
        }
        return null;
    }

    private static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    [GeneratedRegex(@"(?:^INIT_REPORT |\t)(?<name>[A-Za-z -]+): (?<value>[^\s\t]+)")]
    private static partial Regex TabFields();

    [GeneratedRegex(@"\bINIT REPORT\((?<fields>[^)]*)\)")]
    private static partial Regex RapidInitReport();
}
