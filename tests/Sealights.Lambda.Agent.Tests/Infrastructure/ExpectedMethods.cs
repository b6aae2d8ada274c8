using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Tests.Infrastructure;

/// <summary>
/// The ground truth of the fixture (tests/Sealights.Lambda.Agent.Tests.Fixture), written out by
/// hand: which of its methods each scenario executes, as ids spelled from the documented format
/// (src/Sealights.Coverage/README.md, "Method id format"), not from the catalog the agent uses, so
/// a catalog bug cannot hide on both sides. Lambda and local-function ordinals are Roslyn's: the
/// container's index among its type's members in declaration order (fields included), then the
/// lambda's index within it. Changing the fixture means changing this list.
/// </summary>
internal static class ExpectedMethods
{
    /// <summary>What "all" executes (with Program.Main and Program.Run, which run any scenario).</summary>
    public static readonly IReadOnlyList<string> All =
    [
        "Fixture.Program|Main(System.String[])",
        "Fixture.Program|Run(System.String)",
        "Fixture.Features|RunAll()",
        "Fixture.Features|RunAll>lambda_1_0",
        "Fixture.Features|RunAll>lambda_1_1",
        "Fixture.Calculator|.ctor(System.Int32)",
        "Fixture.Calculator|Plain(System.Int32)",
        "Fixture.Calculator|Static(System.Int32)",
        "Fixture.Calculator|get_Doubled()",
        "Fixture.Calculator|set_Doubled(System.Int32)",
        "Fixture.Box`1|.ctor(!0)",
        "Fixture.Box`1|Map(System.Func<!0,System.Int32>)",
        "Fixture.Generic|Echo`1(!!0)",
        "Fixture.Generic|CountPoints(System.Collections.Generic.List<Fixture.Point>)",
        "Fixture.Generic|Largest`1(!!0[])",
        "Fixture.Generic|FindPoint(Fixture.Point[],Fixture.Point)",
        "Fixture.Generic|FindPoint>lambda_3_0",
        "Fixture.Point|Sum()",
        "Fixture.Asynchronous|ComputeAsync(System.Int32)",
        "Fixture.Iterators|Numbers(System.Int32)",
        "Fixture.Iterators|CreateOnly(System.Int32)",
        "Fixture.AsyncIterators|SumAsync(System.Int32)",
        "Fixture.AsyncIterators|CountAsync(System.Int32)",
        "Fixture.Closures|WithLambda(System.Int32)",
        "Fixture.Closures|WithLambda>lambda_0_0",
        "Fixture.Closures|WithCapturingLambda(System.Int32)",
        "Fixture.Closures|WithCapturingLambda>lambda_1_0",
        "Fixture.Closures|WithLocalFunction(System.Int32)",
        "Fixture.Closures|WithLocalFunction>Square_2_0",
        "Fixture.Closures|WithStaticLocalFunction(System.Int32)",
        "Fixture.Closures|WithStaticLocalFunction>Cube_3_0",
        "Fixture.Inlining|CallsSmallHelper(System.Int32)",
        "Fixture.Inlining|SmallHelper(System.Int32)",
        "Fixture.Inlining|Hot(System.Int32)",
        "Fixture.Inlining|HotHelper(System.Int32)",
        "Fixture.Inlining|CallsForcedInline(System.Int32)",
        "Fixture.Inlining|ForcedInline(System.Int32)",
        "Fixture.Square|.ctor(System.Int32)",
        "Fixture.Square|Area()",
        "Fixture.Counter|.cctor()",
        "Fixture.Counter|Next()",
        "Fixture.Counter|Start()",
        "Fixture.Loops|ManyCalls()",
        "Fixture.Loops|Tiny(System.Int32)",
        "Fixture.Loops|OptimizedLoop(System.Int32)",
        "Fixture.Loops|Step(System.Int32)",
        "Fixture.Loops|LongLoop()",
        "Fixture.WithStaticConstructor|.cctor()",
        "Fixture.IGreeter|Greet()",
        "Fixture.PlainGreeter|get_Name()",
        "Fixture.Accumulator|Add(System.Int32)",
        "Fixture.Accumulator|get_Total()",
        "Fixture.Person|.ctor(System.String,System.Int32)",
        "Fixture.Callbacks|SortDescending(System.Collections.Generic.List<System.Int32>)",
        "Fixture.Callbacks|SortDescending>lambda_0_0",
        "Fixture.Callbacks|SortByLength(System.Collections.Generic.List<System.String>)",
        "Fixture.Callbacks|CompareByLength(System.String,System.String)",
        "Fixture.Callbacks|CountEven(System.Int32[])",
        "Fixture.Callbacks|CountEven>lambda_2_0",
    ];

    /// <summary>What only "late" executes.</summary>
    public static readonly IReadOnlyList<string> Late =
    [
        "Fixture.LateWork|Run()",
        "Fixture.LateWork|Step(System.Int32)",
        "Fixture.LateWork+LateObject|get_Value()",
    ];

    /// <summary>
    /// Called but its body never runs: an iterator created and never enumerated. First-execution
    /// mode (JIT/R2R method events) reports it, because its kickoff stub is compiled when called;
    /// probes sit in the state machine's body and do not.
    /// </summary>
    public static readonly IReadOnlyList<string> CalledNeverEnumerated =
    [
        "Fixture.Iterators|NeverEnumerated(System.Int32)",
    ];

    /// <summary>Source methods no scenario executes (a report of any of them is a false positive).</summary>
    public static readonly IReadOnlyList<string> NeverExecuted =
    [
        "Fixture.Calculator|NeverCalledInstance(System.Int32)",
        "Fixture.Calculator|NeverCalledStatic(System.Int32)",
        "Fixture.Box`1|NeverCalledUnwrap()",
        "Fixture.Generic|NeverCalledFirst`1(System.Collections.Generic.IEnumerable<!!0>)",
        "Fixture.Point|NeverCalledProduct()",
        "Fixture.Asynchronous|NeverCalledAsync(System.Int32)",
        "Fixture.Iterators|NeverCalledNumbers()",
        "Fixture.Closures|NeverCalledWithLambda(System.Int32)",
        "Fixture.Closures|NeverCalledWithLambda>lambda_4_0",
        "Fixture.Inlining|NeverCalledHelper(System.Int32)",
        "Fixture.NeverCalled|Method()",
        "Fixture.NeverCalled|WithLocal()",
        "Fixture.NeverCalled|WithLocal>Local_1_0",
    ];

    /// <summary>The ids a run of "all" then "late" must report: what executed, nothing else (probes' exact truth).</summary>
    public static HashSet<string> AllAndLate(string assemblyPath) => Ids(assemblyPath, [.. All, .. Late]);

    /// <summary>First-execution mode's known difference: <see cref="CalledNeverEnumerated"/>.</summary>
    public static HashSet<string> FirstExecutionFalsePositives(string assemblyPath) => Ids(assemblyPath, CalledNeverEnumerated);

    /// <summary>What first-execution mode reports for "all" then "late": <see cref="AllAndLate"/> plus its known false positives.</summary>
    public static HashSet<string> AllAndLateFirstExecution(string assemblyPath) => Ids(assemblyPath, [.. All, .. Late, .. CalledNeverEnumerated]);

    /// <summary>The ids only the "late" scenario calls.</summary>
    public static HashSet<string> LateOnly(string assemblyPath) => Ids(assemblyPath, Late);

    public static string Id(string typeAndMember) => FixtureBuilds.AssemblyName + "|" + typeAndMember;

    /// <summary>
    /// The ids in <paramref name="assemblyPath"/>: its simple name from its metadata (an
    /// instrumented or ReadyToRun copy keeps the fixture's), then type and member.
    /// </summary>
    private static HashSet<string> Ids(string assemblyPath, IEnumerable<string> typeAndMembers)
    {
        var name = System.Reflection.AssemblyName.GetAssemblyName(assemblyPath).Name;
        return typeAndMembers.Select(m => name + "|" + m).ToHashSet(StringComparer.Ordinal);
    }
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
