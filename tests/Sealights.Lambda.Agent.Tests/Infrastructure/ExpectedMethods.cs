using Sealights.Coverage;
using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Tests.Infrastructure;

/// <summary>
/// The ground truth, from the fixture's own PDB through the same catalog the agent uses: every
/// source method of the fixture is executed by the "all" and "late" scenarios except those whose
/// name says NeverCalled (not called) or NeverEnumerated (called, but its body never runs).
/// </summary>
internal static class ExpectedMethods
{
    public const string Never = "NeverCalled";

    /// <summary>An iterator created and never enumerated: its kickoff stub runs, its body does not.</summary>
    public const string NeverEnumerated = "NeverEnumerated";

    public static SourceMethodCatalog Catalog(string assemblyPath) => SourceMethodCatalog.Read(assemblyPath);

    /// <summary>The ids a run of "all" then "late" must report: what executed, nothing else (probes' exact truth).</summary>
    public static HashSet<string> AllAndLate(string assemblyPath) =>
        Catalog(assemblyPath).Methods
            .Select(m => m.Identity.Id)
            .Where(id => !id.Contains(Never, StringComparison.Ordinal) && !id.Contains(NeverEnumerated, StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// The known difference of first-execution mode (JIT/R2R method events): an iterator's
    /// kickoff stub is compiled when it is called, so a created but never enumerated iterator
    /// reports as executed. Probes sit in the state machine's body and do not.
    /// </summary>
    public static HashSet<string> FirstExecutionFalsePositives(string assemblyPath) =>
        Catalog(assemblyPath).Methods
            .Select(m => m.Identity.Id)
            .Where(id => id.Contains(NeverEnumerated, StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>What first-execution mode reports for "all" then "late": <see cref="AllAndLate"/> plus its known false positives.</summary>
    public static HashSet<string> AllAndLateFirstExecution(string assemblyPath) =>
        [.. AllAndLate(assemblyPath), .. FirstExecutionFalsePositives(assemblyPath)];

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
