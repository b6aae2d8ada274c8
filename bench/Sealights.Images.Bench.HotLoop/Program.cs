using System.Globalization;
using System.Text;

// Usage: <workload> <repetitions>. Warms the workload up (tier-1 code, as in a warm Lambda
// environment), then prints one line per repetition: "<workload> <milliseconds>", the CPU time
// of this thread (CLOCK_THREAD_CPUTIME_ID): on a shared machine the wall clock also counts the
// time the thread waited for a core, which moved medians by 2x between runs here; its CPU time
// moved by under 5%.
var workload = args.Length > 0 ? args[0] : "sum";
var repetitions = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
Func<long> run = workload switch
{
    "sum" => Workloads.Sum,
    "fib" => Workloads.Fibonacci,
    "text" => Workloads.Text,
    _ => throw new ArgumentException($"unknown workload {workload}: sum, fib or text"),
};

long sink = 0;
for (var i = 0; i < 3; i++)
{
    sink += run();
}
Thread.Sleep(200); // lets the tiering thread finish its rejits before the clock starts
for (var i = 0; i < repetitions; i++)
{
    var started = ThreadCpu.Milliseconds();
    sink += run();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{workload} {ThreadCpu.Milliseconds() - started:0.000}"));
}
return sink == 42 ? 1 : 0;

/// <summary>Tight loops over small application methods: where an entry probe weighs most.</summary>
internal static class Workloads
{
    /// <summary>A loop calling small helpers that the JIT inlines (probe and all) without JitNoInline.</summary>
    public static long Sum()
    {
        var accumulator = new Accumulator();
        for (var i = 0; i < 40_000_000; i++)
        {
            accumulator.Add(Scale(i));
        }
        return accumulator.Total;
    }

    /// <summary>Call-bound: recursion cannot be inlined away.</summary>
    public static long Fibonacci() => Fib(32);

    /// <summary>Application code around framework calls: parsing, formatting, a dictionary.</summary>
    public static long Text()
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var builder = new StringBuilder();
        long total = 0;
        for (var i = 0; i < 400_000; i++)
        {
            var key = KeyOf(i);
            counts[key] = counts.TryGetValue(key, out var n) ? n + 1 : 1;
            builder.Clear().Append(key).Append(':').Append(i);
            total += ParseTail(builder.ToString());
        }
        return total + counts.Count;
    }

    private static int Scale(int i) => (i & 7) * 3;

    private static int Fib(int n) => n < 2 ? n : Fib(n - 1) + Fib(n - 2);

    private static string KeyOf(int i) => (i % 97).ToString(CultureInfo.InvariantCulture);

    private static int ParseTail(string text) => int.Parse(text.AsSpan(text.IndexOf(':') + 1), CultureInfo.InvariantCulture) & 0xff;

    private sealed class Accumulator
    {
        public long Total { get; private set; }

        public void Add(int value) => Total += value;
    }
}

/// <summary>The calling thread's CPU time (Linux, glibc).</summary>
internal static partial class ThreadCpu
{
    private const int ClockThreadCpuTime = 3;

    public static double Milliseconds()
    {
        if (ClockGetTime(ClockThreadCpuTime, out var time) != 0)
        {
            throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        }
        return (time.Seconds * 1000.0) + (time.Nanoseconds / 1_000_000.0);
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
