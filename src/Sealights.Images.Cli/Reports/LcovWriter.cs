using System.Globalization;
using System.Text;

namespace Sealights.Images.Cli.Reports;

/// <summary>
/// LCOV tracefile (geninfo's format): a record per source file with its methods (<c>FN</c>/<c>FNDA</c>)
/// and one <c>DA</c> line per method, its first (see <see cref="Granularity"/>). <c>TN</c> is the execution.
/// </summary>
public static class LcovWriter
{
    public static void Write(string path, CoverageReport report)
    {
        var text = new StringBuilder();
        var testName = Sanitize(report.ExecutionId ?? "");
        foreach (var file in report.Methods.GroupBy(m => m.File))
        {
            text.Append("TN:").Append(testName).Append('\n');
            text.Append("SF:").Append(file.Key).Append('\n');
            foreach (var method in file)
            {
                text.Append("FN:").Append(Invariant(method.StartLine)).Append(',').Append(FunctionName(method)).Append('\n');
            }
            foreach (var method in file)
            {
                text.Append("FNDA:").Append(Invariant(method.Hits)).Append(',').Append(FunctionName(method)).Append('\n');
            }
            text.Append("FNF:").Append(Invariant(file.Count())).Append('\n');
            text.Append("FNH:").Append(Invariant(file.Count(m => m.Covered))).Append('\n');
            var lines = Granularity.Lines(file);
            foreach (var (line, hits) in lines)
            {
                text.Append("DA:").Append(Invariant(line)).Append(',').Append(Invariant(hits)).Append('\n');
            }
            text.Append("LF:").Append(Invariant(lines.Count)).Append('\n');
            text.Append("LH:").Append(Invariant(lines.Values.Count(h => h > 0))).Append('\n');
            text.Append("end_of_record\n");
        }
        // Not part of the format: last, since readers (ReportGenerator) recognise LCOV by its first
        // line; they skip lines they do not know.
        text.Append("# ").Append(Granularity.Note).Append('\n');
        File.WriteAllText(path, text.ToString(), new UTF8Encoding(false));
    }

    // FN/FNDA separate fields with commas: parameter lists use ';' here so readers see one name.
    private static string FunctionName(MethodCoverage method) => Sanitize($"{method.Class}.{method.Member}").Replace(',', ';');

    private static string Sanitize(string value) => value.Replace('\n', ' ').Replace('\r', ' ');

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
