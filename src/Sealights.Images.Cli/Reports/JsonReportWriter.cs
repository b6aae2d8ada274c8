using System.Text.Json;

namespace Sealights.Images.Cli.Reports;

/// <summary>
/// The report as JSON for scripts: totals, then assemblies → files → classes → methods, each with
/// <c>coverage: {methods, covered, percent}</c>; ids the build maps do not know are listed apart.
/// </summary>
public static class JsonReportWriter
{
    public static void Write(Stream stream, CoverageReport report, IReadOnlyList<CoverageReport> executions, string generatedBy)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        json.WriteStartObject();
        json.WriteString("generatedBy", generatedBy);
        json.WriteString("granularity", "method");
        json.WriteString("note", Granularity.Note);
        WriteReport(json, report);
        if (executions.Count > 0)
        {
            json.WriteStartArray("executions");
            foreach (var execution in executions)
            {
                json.WriteStartObject();
                WriteReport(json, execution);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }

    private static void WriteReport(Utf8JsonWriter json, CoverageReport report)
    {
        if (report.ExecutionId is not null)
        {
            json.WriteString("executionId", report.ExecutionId);
        }
        json.WriteNumber("requests", report.Requests);
        Counts(json, report.Methods);
        json.WriteStartArray("assemblies");
        foreach (var assembly in report.Methods.GroupBy(m => m.Assembly))
        {
            json.WriteStartObject();
            json.WriteString("name", assembly.Key);
            Counts(json, assembly);
            json.WriteStartArray("files");
            foreach (var file in assembly.GroupBy(m => m.File))
            {
                json.WriteStartObject();
                json.WriteString("path", file.Key);
                Counts(json, file);
                json.WriteStartArray("classes");
                foreach (var type in file.GroupBy(m => m.Class).OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    json.WriteStartObject();
                    json.WriteString("name", type.Key);
                    Counts(json, type);
                    json.WriteStartArray("methods");
                    foreach (var method in type)
                    {
                        json.WriteStartObject();
                        json.WriteString("id", method.Id);
                        json.WriteString("member", method.Member);
                        json.WriteNumber("startLine", method.StartLine);
                        json.WriteNumber("endLine", method.EndLine);
                        json.WriteBoolean("covered", method.Covered);
                        json.WriteNumber("hits", method.Hits);
                        json.WriteEndObject();
                    }
                    json.WriteEndArray();
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("unknownMethodIds");
        foreach (var id in report.UnknownIds)
        {
            json.WriteStringValue(id);
        }
        json.WriteEndArray();
    }

    private static void Counts(Utf8JsonWriter json, IEnumerable<MethodCoverage> methods)
    {
        var list = methods as ICollection<MethodCoverage> ?? methods.ToList();
        var covered = list.Count(m => m.Covered);
        json.WriteStartObject("coverage");
        json.WriteNumber("methods", list.Count);
        json.WriteNumber("covered", covered);
        json.WriteNumber("percent", Math.Round(CoverageReport.Percent(covered, list.Count), 2));
        json.WriteEndObject();
    }
}
