using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace ProbedFixture;

/// <summary>
/// argv[0]: "register" makes the module register at start (the usual case: a probed method runs
/// during init), "idle" does not (the EventSource is created by the first stdin scenario). Prints
/// "ready", then runs one stdin line at a time ("a", "b", "c", "none", "bulk N", "register"),
/// answering "done &lt;line&gt;", until "exit".
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "register")
        {
            Register();
        }

        Console.WriteLine("ready");
        string? line;
        while ((line = Console.ReadLine()) is not null && line != "exit")
        {
            Run(line);
            Console.WriteLine("done " + line);
        }

        return 0;
    }

    private static void Run(string scenario)
    {
        switch (scenario.Split(' '))
        {
            case ["a"]:
                PathA.Run();
                break;
            case ["b"]:
                PathB.Run();
                break;
            case ["c"]:
                PathC.Run();
                break;
            case ["none"]:
                break;
            case ["register"]:
                Register();
                // Until the flush's source exists (it is made on a thread of its own).
                var waited = Stopwatch.StartNew();
                while (!System.Diagnostics.Tracing.EventSource.GetSources().Any(s => s.Name == "Sealights-Coverage") && waited.Elapsed < TimeSpan.FromSeconds(10))
                {
                    Thread.Sleep(1);
                }

                Console.WriteLine($"event source after {waited.Elapsed.TotalMilliseconds:0.0} ms");
                break;
            case ["bulk", var count]:
                BulkProbes.HitAll(int.Parse(count, System.Globalization.CultureInfo.InvariantCulture));
                break;
            default:
                Console.Error.WriteLine("unknown scenario " + scenario);
                break;
        }
    }

    /// <summary>Runs the anchor's static constructor (Register, and with it the EventSource's creation) and prints what it cost.</summary>
    private static void Register()
    {
        // The index table's reflection is the hand-probing's own cost, not the pattern's: paid first.
        RuntimeHelpers.RunClassConstructor(typeof(Ix).TypeHandle);
        var clock = Stopwatch.StartNew();
        RuntimeHelpers.RunClassConstructor(typeof(_SealightsProbes_).TypeHandle);
        Console.WriteLine($"registered in {clock.Elapsed.TotalMilliseconds:0.000} ms");
    }
}
