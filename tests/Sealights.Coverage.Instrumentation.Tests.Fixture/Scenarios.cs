namespace Corners;

/// <summary>
/// Entry points for the in-process hit tests: each runs a known set of source methods (listed by
/// the test that calls it) and nothing else of this assembly.
/// </summary>
public static class Scenarios
{
    public static void IteratorCreatedOnly()
    {
        _ = Sequences.Count(3);
    }

    public static int IteratorEnumerated() => Sequences.Count(2).Sum();

    public static double Mixed()
    {
        Shape shape = new Unit();
        var greeting = ((IGreeter)new Plain()).Greet();
        var vector = new Vector(1, 2).Dot(new Vector(3));
        var picked = GenericCases.Pick(1, 2, true) + GenericCases.Pick("a", "b", false).Length;
        var closure = Closures.Apply(1);
        var hidden = Excluded.Hidden(2);
        return shape.Area() + greeting.Length + vector + picked + closure + hidden + Registry.Codes.Count + new Point(1, 2).X;
    }

    public static int AsyncIterator() => Collect().GetAwaiter().GetResult();

    private static async Task<int> Collect()
    {
        var total = 0;
        await foreach (var tick in AsyncSequences.Ticks(2))
        {
            total += tick;
        }

        return total;
    }
}
