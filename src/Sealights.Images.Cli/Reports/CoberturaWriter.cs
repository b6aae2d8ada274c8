using System.Globalization;
using System.Xml;

namespace Sealights.Images.Cli.Reports;

/// <summary>
/// Cobertura XML (the coverage-04 DTD's elements, as ReportGenerator and CI systems read it): a
/// package per assembly, a class per type and source file, a method per method. Each method has one
/// line, its first (see <see cref="Granularity"/>); branches are not observed and stay at zero.
/// </summary>
public static class CoberturaWriter
{
    public static void Write(string path, CoverageReport report, string generatedBy)
    {
        var settings = new XmlWriterSettings { Indent = true, Encoding = new System.Text.UTF8Encoding(false) };
        using var xml = XmlWriter.Create(path, settings);
        xml.WriteStartDocument();
        xml.WriteComment(" " + Granularity.Note.Replace("--", "- -", StringComparison.Ordinal) + " ");
        xml.WriteStartElement("coverage");
        var allLines = report.Methods.GroupBy(m => m.File).Select(g => Granularity.Lines(g)).ToList();
        var valid = allLines.Sum(l => l.Count);
        var covered = allLines.Sum(l => l.Values.Count(h => h > 0));
        xml.WriteAttributeString("line-rate", Rate(covered, valid));
        xml.WriteAttributeString("branch-rate", "0");
        xml.WriteAttributeString("lines-covered", Invariant(covered));
        xml.WriteAttributeString("lines-valid", Invariant(valid));
        xml.WriteAttributeString("branches-covered", "0");
        xml.WriteAttributeString("branches-valid", "0");
        xml.WriteAttributeString("complexity", "0");
        xml.WriteAttributeString("version", generatedBy);
        xml.WriteAttributeString("timestamp", Invariant(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        // Paths are the PDB's document paths, absolute: no source root.
        xml.WriteStartElement("sources");
        xml.WriteEndElement();
        xml.WriteStartElement("packages");
        foreach (var assembly in report.Methods.GroupBy(m => m.Assembly))
        {
            var packageLines = assembly.GroupBy(m => m.File).Select(g => Granularity.Lines(g)).ToList();
            xml.WriteStartElement("package");
            xml.WriteAttributeString("name", assembly.Key);
            xml.WriteAttributeString("line-rate", Rate(packageLines.Sum(l => l.Values.Count(h => h > 0)), packageLines.Sum(l => l.Count)));
            xml.WriteAttributeString("branch-rate", "0");
            xml.WriteAttributeString("complexity", "0");
            xml.WriteStartElement("classes");
            foreach (var type in assembly.GroupBy(m => (m.Class, m.File)).OrderBy(g => g.Key.Class, StringComparer.Ordinal).ThenBy(g => g.Key.File, StringComparer.Ordinal))
            {
                WriteClass(xml, type.Key.Class, type.Key.File, [.. type]);
            }
            xml.WriteEndElement();
            xml.WriteEndElement();
        }
        xml.WriteEndElement();
        xml.WriteEndElement();
        xml.WriteEndDocument();
    }

    private static void WriteClass(XmlWriter xml, string name, string file, List<MethodCoverage> methods)
    {
        var lines = Granularity.Lines(methods);
        xml.WriteStartElement("class");
        xml.WriteAttributeString("name", name);
        xml.WriteAttributeString("filename", file);
        xml.WriteAttributeString("line-rate", Rate(lines.Values.Count(h => h > 0), lines.Count));
        xml.WriteAttributeString("branch-rate", "0");
        xml.WriteAttributeString("complexity", "0");
        xml.WriteStartElement("methods");
        foreach (var method in methods)
        {
            xml.WriteStartElement("method");
            xml.WriteAttributeString("name", method.Name);
            xml.WriteAttributeString("signature", method.Signature);
            xml.WriteAttributeString("line-rate", method.Covered ? "1" : "0");
            xml.WriteAttributeString("branch-rate", "0");
            xml.WriteAttributeString("complexity", "0");
            xml.WriteStartElement("lines");
            WriteLine(xml, method.StartLine, method.Hits);
            xml.WriteEndElement();
            xml.WriteEndElement();
        }
        xml.WriteEndElement();
        xml.WriteStartElement("lines");
        foreach (var (line, hits) in lines)
        {
            WriteLine(xml, line, hits);
        }
        xml.WriteEndElement();
        xml.WriteEndElement();
    }

    private static void WriteLine(XmlWriter xml, int number, int hits)
    {
        xml.WriteStartElement("line");
        xml.WriteAttributeString("number", Invariant(number));
        xml.WriteAttributeString("hits", Invariant(hits));
        xml.WriteAttributeString("branch", "false");
        xml.WriteEndElement();
    }

    private static string Rate(int covered, int total) =>
        (total == 0 ? 0 : (double)covered / total).ToString("0.####", CultureInfo.InvariantCulture);

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
