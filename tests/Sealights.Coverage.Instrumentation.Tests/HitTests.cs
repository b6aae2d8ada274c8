using System.Reflection;
using Xunit.Abstractions;

namespace Sealights.Coverage.Instrumentation.Tests;

/// <summary>
/// (b) Hits are exact: a scenario of the corner-case fixture runs in a fresh load context, its
/// <c>&lt;SealightsProbes&gt;.Hits</c> is read by reflection, each set index becomes a token
/// (index + 1) and, through the Sealights.Coverage catalog of the instrumented file, a method id.
/// The set must equal the methods the scenario executes: precision and recall 1.00.
/// </summary>
public sealed class HitTests(ITestOutputHelper output)
{
    private const string Fx = Inputs.Corners + "|Corners.";

    public static TheoryData<string, string[]> Scenarios => new()
    {
        // Creating an iterator runs none of its body: no hit for Sequences.Count.
        { "IteratorCreatedOnly", ["Scenarios|IteratorCreatedOnly()"] },
        { "IteratorEnumerated", ["Scenarios|IteratorEnumerated()", "Sequences|Count(System.Int32)"] },
        { "AsyncIterator", ["Scenarios|AsyncIterator()", "Scenarios|Collect()", "AsyncSequences|Ticks(System.Int32)"] },
        {
            "Mixed",
            [
                "Scenarios|Mixed()",
                "Unit|.ctor()", "Square|.ctor(System.Double)", "Unit|Area()", "Square|Area()",
                "Plain|get_Name()", "IGreeter|Greet()",
                "Vector|.ctor(System.Int32,System.Int32)", "Vector|.ctor(System.Int32)", "Vector|Dot(Corners.Vector)",
                "GenericCases|Pick`1(!!0,!!0,System.Boolean)",
                "Closures|Apply(System.Int32)", "Closures|Apply>lambda_0_0", "Closures|Apply>Square_0_1",
                "Registry|.cctor()",
                "Point|.ctor(System.Int32,System.Int32)",
                // Not: Excluded|Hidden(System.Int32) and its lambda ([ExcludeFromCodeCoverage]), though they run.
            ]
        },
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void A_scenario_hits_exactly_the_methods_it_runs(string scenario, string[] expectedMembers)
    {
        using var folder = Inputs.Instrumented(Inputs.Corners);
        var path = folder.File(Inputs.Corners + ".dll");
        var catalog = SourceMethodCatalog.Read(path);
        var context = new IsolatedLoad(folder.Path);
        try
        {
            var assembly = context.LoadFile(Inputs.Corners);
            assembly.GetType("Corners.Scenarios", throwOnError: true)!.GetMethod(scenario)!.Invoke(null, null);

            var hits = (int[])assembly.GetType("<SealightsProbes>", throwOnError: true)!
                .GetField("Hits", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!;
            var reported = new HashSet<string>(StringComparer.Ordinal);
            for (var index = 0; index < hits.Length; index++)
            {
                if (hits[index] != 0)
                {
                    Assert.True(catalog.TryResolve(0x06000000 | (index + 1), out var identity), $"index {index} was hit but maps to no source method");
                    reported.Add(identity.Id);
                }
            }

            var expected = expectedMembers.Select(m => Fx + m).ToHashSet(StringComparer.Ordinal);
            var truePositives = reported.Count(expected.Contains);
            var precision = reported.Count == 0 ? 1.0 : (double)truePositives / reported.Count;
            var recall = (double)truePositives / expected.Count;
            output.WriteLine($"{scenario}: precision {precision:0.00}, recall {recall:0.00} ({reported.Count} reported, {expected.Count} expected)");
            Assert.True(
                reported.SetEquals(expected),
                $"unexpected: [{string.Join(", ", reported.Except(expected))}]; missing: [{string.Join(", ", expected.Except(reported))}]");
            Assert.Equal(ProbeIl.MethodDefRows(path), hits.Length);
        }
        finally
        {
            context.Unload();
        }
    }
}
