using System.Globalization;

namespace Sealights.Images.Cli.Reports;

/// <summary>The summary for people: totals per assembly and class, and per execution when asked.</summary>
public static class SummaryWriter
{
    public static void Write(TextWriter output, CoverageReport report, IReadOnlyList<CoverageReport> executions)
    {
        output.WriteLine($"Method coverage ({report.Requests} footprints request(s)); a \"line\" in the Cobertura/LCOV output is a method's first line.");
        var width = Math.Max(40, report.Methods.Select(m => m.Class.Length + 2).DefaultIfEmpty(0).Max());
        output.WriteLine($"{"assembly / class".PadRight(width)} {"methods",8} {"covered",8} {"%",7}");
        foreach (var assembly in report.Methods.GroupBy(m => m.Assembly))
        {
            Row(output, assembly.Key, assembly, width);
            foreach (var type in assembly.GroupBy(m => m.Class).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                Row(output, "  " + type.Key, type, width);
            }
        }
        Row(output, "total", report.Methods, width);
        if (report.UnknownIds.Count > 0)
        {
            output.WriteLine($"{report.UnknownIds.Count} method id(s) in the footprints are not in the build map(s) (another build?), e.g. {report.UnknownIds[0]}");
        }
        if (executions.Count > 0)
        {
            output.WriteLine();
            var executionWidth = Math.Max(20, executions.Max(e => e.Title.Length));
            output.WriteLine($"{"execution".PadRight(executionWidth)} {"requests",8} {"methods",8} {"covered",8} {"%",7}");
            foreach (var execution in executions)
            {
                output.WriteLine($"{execution.Title.PadRight(executionWidth)} {execution.Requests,8} {execution.Total,8} {execution.CoveredCount,8} {Percent(execution.CoveredCount, execution.Total),7}");
            }
        }
    }

    private static void Row(TextWriter output, string name, IEnumerable<MethodCoverage> methods, int width)
    {
        var list = methods.ToList();
        var covered = list.Count(m => m.Covered);
        output.WriteLine($"{name.PadRight(width)} {list.Count,8} {covered,8} {Percent(covered, list.Count),7}");
    }

    private static string Percent(int covered, int total) =>
        CoverageReport.Percent(covered, total).ToString("0.0", CultureInfo.InvariantCulture) + "%";
}
