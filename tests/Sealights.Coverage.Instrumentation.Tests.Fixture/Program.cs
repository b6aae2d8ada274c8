namespace Corners;

public static class Program
{
    public static int Main()
    {
        var failures = Checks.RunAll(Console.Out);
        Console.WriteLine(failures == 0 ? $"all {Checks.Count} checks passed" : $"{failures} of {Checks.Count} checks failed");
        return failures == 0 ? 0 : 1;
    }
}
