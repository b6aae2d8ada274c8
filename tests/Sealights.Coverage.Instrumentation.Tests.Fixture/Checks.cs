namespace Corners;

/// <summary>Runs every corner case; each throws when its behaviour is not what its source says.</summary>
public static class Checks
{
    private static readonly (string Name, Action Check)[] All =
    [
        ("overrides", Hierarchy.Check),
        ("async", () => AsyncWork.Check().GetAwaiter().GetResult()),
        ("iterators", Sequences.Check),
        ("async iterators", () => AsyncSequences.Check().GetAwaiter().GetResult()),
        ("generics", GenericCases.Check),
        ("structs", Vector.Check),
        ("constructor chaining", Chained.Check),
        ("static constructors", Registry.Check),
        ("default interface methods", Greeters.Check),
        ("records", Point.Check),
        ("exception handling", Errors.Check),
        ("tail calls", Recursion.Check),
        ("inlining and optimization", Hot.Check),
        ("lambdas and local functions", Closures.Check),
        ("excluded code", Excluded.Check),
    ];

    public static int Count => All.Length;

    public static int RunAll(TextWriter log)
    {
        var failures = 0;
        foreach (var (name, check) in All)
        {
            try
            {
                check();
                log.WriteLine($"ok   {name}");
            }
            catch (Exception e)
            {
                failures++;
                log.WriteLine($"FAIL {name}: {e}");
            }
        }

        return failures;
    }

    public static void Equal<T>(T expected, T actual, string what)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
        {
            throw new InvalidOperationException($"{what}: expected {expected}, got {actual}");
        }
    }
}
