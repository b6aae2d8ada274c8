using Sealights.Coverage;
using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Tests.Infrastructure;

/// <summary>
/// The ground truth, from the fixture's own PDB through the same catalog the agent uses: every
/// source method of the fixture is called by the "all" and "late" scenarios except those whose
/// name says NeverCalled.
/// </summary>
internal static class ExpectedMethods
{
    public const string Never = "NeverCalled";

    public static SourceMethodCatalog Catalog(string assemblyPath) => SourceMethodCatalog.Read(assemblyPath);

    /// <summary>The ids a run of "all" then "late" must report.</summary>
    public static HashSet<string> AllAndLate(string assemblyPath) =>
        Catalog(assemblyPath).Methods
            .Select(m => m.Identity.Id)
            .Where(id => !id.Contains(Never, StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>The ids only the "late" scenario calls.</summary>
    public static HashSet<string> LateOnly(string assemblyPath) =>
        Catalog(assemblyPath).Methods
            .Select(m => m.Identity.Id)
            .Where(id => id.Contains("|Fixture.LateWork", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);

    public static string Id(string typeAndMember) => FixtureBuilds.AssemblyName + "|" + typeAndMember;
}

/// <summary>Precision and recall of reported hits against the expected ids.</summary>
internal sealed record Accuracy(double Precision, double Recall, IReadOnlyList<string> Missed, IReadOnlyList<string> Unexpected)
{
    public static Accuracy Of(IEnumerable<MethodHit> hits, IReadOnlySet<string> expected)
    {
        var reported = hits.Select(h => h.Method.Id).ToHashSet(StringComparer.Ordinal);
        var truePositives = reported.Count(expected.Contains);
        return new Accuracy(
            reported.Count == 0 ? 0 : (double)truePositives / reported.Count,
            expected.Count == 0 ? 1 : (double)truePositives / expected.Count,
            expected.Where(id => !reported.Contains(id)).Order(StringComparer.Ordinal).ToList(),
            reported.Where(id => !expected.Contains(id)).Order(StringComparer.Ordinal).ToList());
    }

    public override string ToString() =>
        $"precision {Precision:0.00}, recall {Recall:0.00}"
        + (Missed.Count > 0 ? $"; missed: {string.Join(", ", Missed)}" : string.Empty)
        + (Unexpected.Count > 0 ? $"; unexpected: {string.Join(", ", Unexpected)}" : string.Empty);
}
