using Sealights.Coverage;
using Sealights.Coverage.BuildMaps;

namespace Sealights.Images.Cli.Reports;

/// <summary>
/// Method coverage: every method of the build map(s), covered when footprints named it. Footprints
/// are method hits, so this is the one granularity observed; <see cref="Hits"/> counts the hits
/// entries (an agent's flushes) that named a method, not how often it was called.
/// </summary>
public sealed record MethodCoverage(string Id, string Assembly, string File, string Class, string Member, int StartLine, int EndLine, int Hits)
{
    public bool Covered => Hits > 0;

    /// <summary>The member's name without its parameters (<c>Price</c> of <c>Price(System.String)</c>).</summary>
    public string Name => Member.IndexOf('(') is var paren and > 0 ? Member[..paren] : Member;

    /// <summary>The parameter list (<c>(System.String)</c>), empty for lambdas and local functions.</summary>
    public string Signature => Member.IndexOf('(') is var paren and > 0 ? Member[paren..] : "";
}

/// <summary>The coverage of one set of footprints (all, or one execution's).</summary>
/// <param name="Title">What the set is: "all executions" or an execution id.</param>
/// <param name="Methods">Every build-map method, ordered by assembly, file, line and id.</param>
/// <param name="UnknownIds">Method ids in the footprints that no build map lists (another build?).</param>
public sealed record CoverageReport(string Title, string? ExecutionId, IReadOnlyList<MethodCoverage> Methods, IReadOnlyList<string> UnknownIds, int Requests)
{
    public int Total => Methods.Count;

    public int CoveredCount => Methods.Count(m => m.Covered);

    public static double Percent(int covered, int total) => total == 0 ? 0 : 100.0 * covered / total;

    /// <summary>Joins the build maps with method hit counts (id → hits entries that named it).</summary>
    public static CoverageReport Create(string title, string? executionId, IReadOnlyList<BuildMap> maps, IReadOnlyDictionary<string, int> hits, int requests)
    {
        var methods = new Dictionary<string, MethodCoverage>(StringComparer.Ordinal);
        foreach (var assembly in maps.SelectMany(m => m.Assemblies))
        {
            foreach (var method in assembly.Methods)
            {
                var (type, member) = MethodIdentity.TryParse(method.Id, out var identity)
                    ? (identity.TypeName, identity.Member)
                    : ("", method.Id);
                methods.TryAdd(method.Id, new MethodCoverage(method.Id, assembly.Name, method.File, type, member, method.StartLine, method.EndLine, hits.GetValueOrDefault(method.Id)));
            }
        }
        var ordered = methods.Values
            .OrderBy(m => m.Assembly, StringComparer.Ordinal)
            .ThenBy(m => m.File, StringComparer.Ordinal)
            .ThenBy(m => m.StartLine)
            .ThenBy(m => m.Id, StringComparer.Ordinal)
            .ToList();
        var unknown = hits.Keys.Where(id => !methods.ContainsKey(id)).Order(StringComparer.Ordinal).ToList();
        return new CoverageReport(title, executionId, ordered, unknown, requests);
    }
}

/// <summary>
/// What a "line" means in the line-based formats (Cobertura, LCOV): the first line of a method, one
/// per method, covered when the method ran. Said in every file and in the summary.
/// </summary>
public static class Granularity
{
    public const string Note =
        "Method coverage from Sealights footprints (method hits). A \"line\" here is the first line of a method: "
        + "covered when the method ran; no other line is claimed. Where several methods start on one line it counts once, covered when any of them ran.";

    /// <summary>The lines of a set of methods: first line → the most hits of the methods starting there.</summary>
    public static SortedDictionary<int, int> Lines(IEnumerable<MethodCoverage> methods)
    {
        var lines = new SortedDictionary<int, int>();
        foreach (var method in methods)
        {
            lines[method.StartLine] = Math.Max(lines.GetValueOrDefault(method.StartLine), method.Hits);
        }
        return lines;
    }
}
