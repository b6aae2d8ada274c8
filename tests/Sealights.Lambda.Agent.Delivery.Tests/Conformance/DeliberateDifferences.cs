using System.Text;
using System.Text.RegularExpressions;

namespace Sealights.Lambda.Agent.Delivery.Tests.Conformance;

/// <summary>One listed difference: where it applies, a pattern of <see cref="WireSchema.Compare"/> lines (<c>*</c> = anything), why.</summary>
public sealed record DeliberateDifference(IReadOnlyList<string> Scenarios, string Pattern, string Reason, int Line)
{
    public bool AppliesTo(string scenario) => Scenarios.Contains("*") || Scenarios.Contains(scenario);

    public bool Matches(string difference) =>
        Regex.IsMatch(difference, "^" + string.Join(".*", Pattern.Split('*').Select(Regex.Escape)) + "$", RegexOptions.CultureInvariant);
}

/// <summary>
/// The documented list of differences between slnodejs and our agent that the conformance test
/// accepts (deliberate-differences.md): the rows of its markdown table
/// <c>| scenarios | `pattern` | reason |</c>. The check is two-way: a difference no row covers
/// fails, and so does a row that covers nothing any more (the list stays honest).
/// </summary>
public static class DeliberateDifferences
{
    public static IReadOnlyList<DeliberateDifference> Parse(string markdown)
    {
        var rows = new List<DeliberateDifference>();
        var lines = markdown.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (!line.StartsWith('|') || !line.Contains('`'))
            {
                continue; // prose, the header row, the separator row
            }
            var cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            if (cells.Length != 3 || !cells[1].StartsWith('`') || !cells[1].EndsWith('`') || cells[1].Length < 3)
            {
                throw new FormatException($"deliberate-differences.md line {i + 1}: a row is | scenarios | `pattern` | reason |");
            }
            if (cells[2].Length == 0)
            {
                throw new FormatException($"deliberate-differences.md line {i + 1}: every difference needs its reason");
            }
            var scenarios = cells[0].Split(',').Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
            rows.Add(new DeliberateDifference(scenarios, cells[1][1..^1], cells[2], i + 1));
        }
        return rows;
    }

    /// <summary>What is wrong with the list against the differences found (scenario → lines): empty when it fits exactly.</summary>
    public static string Check(IReadOnlyList<DeliberateDifference> listed, IReadOnlyDictionary<string, IReadOnlyList<string>> found)
    {
        var report = new StringBuilder();
        foreach (var (scenario, lines) in found.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            var unlisted = lines.Where(l => !listed.Any(d => d.AppliesTo(scenario) && d.Matches(l))).ToList();
            if (unlisted.Count > 0)
            {
                report.AppendLine($"[{scenario}] differences not in deliberate-differences.md (fix the agent, or list them with a reason):");
                foreach (var line in unlisted)
                {
                    report.AppendLine("  " + line);
                }
            }
        }
        var stale = listed.Where(d => !found.Any(f => d.AppliesTo(f.Key) && f.Value.Any(d.Matches))).ToList();
        if (stale.Count > 0)
        {
            report.AppendLine("rows of deliberate-differences.md that match no difference any more (remove them):");
            foreach (var row in stale)
            {
                report.AppendLine($"  line {row.Line}: {string.Join(",", row.Scenarios)} `{row.Pattern}`");
            }
        }
        return report.ToString();
    }
}
