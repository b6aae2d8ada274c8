using System.Globalization;
using Sealights.Images.Testing;

namespace Sealights.Images.Bench;

/// <summary>
/// "hotloop": what each coverage mode costs CPU-bound application code once it is warm. One
/// publish of bench/Sealights.Images.Bench.HotLoop runs as
/// <list type="bullet">
/// <item><c>plain</c>: no coverage at all;</item>
/// <item><c>noinline</c>: <c>DOTNET_JitNoInline=1</c>, what the exec wrapper sets for first-execution coverage;</item>
/// <item><c>probes</c>: the same publish after <c>sl-images instrument</c> (compiled-in probes, inlining on).</item>
/// </list>
/// Processes run directly on this machine (no container: the workload is one thread), pinned to
/// one core with <c>taskset</c> when it is there, rounds interleaved with the order reversed every
/// other round. Each process warms up and then times repetitions; a configuration's figure is
/// the median over all its repetitions, and the ratio is to <c>plain</c>.
/// </summary>
public static class HotLoopBench
{
    private static readonly string[] Workloads = ["sum", "fib", "text"];

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = 5;
        var repetitions = 5;
        for (var i = 0; i < args.Length - 1; i += 2)
        {
            switch (args[i])
            {
                case "--rounds": rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--repetitions": repetitions = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"unknown option {args[i]} (hotloop [--rounds N] [--repetitions M])"); return 2;
            }
        }

        var work = Directory.CreateTempSubdirectory("sl-hotloop-");
        var plain = Path.Combine(work.FullName, "plain");
        var probes = Path.Combine(work.FullName, "probes");
        await DotnetAsync("publish", RepositoryPaths.Combine("bench", "Sealights.Images.Bench.HotLoop"), "-c", "Release", "-o", plain);
        var cli = Path.Combine(work.FullName, "cli");
        await DotnetAsync("publish", RepositoryPaths.Combine("src", "Sealights.Images.Cli"), "-c", "Release", "-o", cli);
        ImageBuilder.CopyDirectory(plain, probes);
        var instrument = await ProcessRunner.RunAsync("dotnet", [Path.Combine(cli, "sl-images.dll"), "instrument", probes], TimeSpan.FromMinutes(2));
        instrument.EnsureSuccess("sl-images instrument");
        Console.WriteLine(instrument.StdOut.Trim());

        var configurations = new (string Name, string Directory, Dictionary<string, string> Environment)[]
        {
            ("plain", plain, []),
            ("noinline", plain, new() { ["DOTNET_JitNoInline"] = "1" }),
            ("probes", probes, []),
        };
        var pin = File.Exists("/usr/bin/taskset") ? new[] { "/usr/bin/taskset", "-c", "1" } : [];
        var samples = configurations.ToDictionary(c => c.Name, _ => Workloads.ToDictionary(w => w, _ => new List<double>()));
        for (var round = 0; round < rounds; round++)
        {
            var order = round % 2 == 0 ? configurations : configurations.Reverse().ToArray();
            foreach (var workload in Workloads)
            {
                foreach (var (name, directory, environment) in order)
                {
                    string[] command = [.. pin, "dotnet", Path.Combine(directory, "Sealights.Images.Bench.HotLoop.dll"), workload, repetitions.ToString(CultureInfo.InvariantCulture)];
                    var result = await ProcessRunner.RunAsync(command[0], command[1..], TimeSpan.FromMinutes(5), environment: environment);
                    result.EnsureSuccess($"{name} {workload}");
                    foreach (var line in result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    {
                        samples[name][workload].Add(double.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture));
                    }
                }
            }
        }

        Console.WriteLine($"hot loops, JIT publish, {rounds} rounds x {repetitions} timed repetitions per process (median ms of the thread's CPU time, ratio to plain){(pin.Length > 0 ? ", pinned to CPU 1" : "")}");
        Console.WriteLine($"{"workload",-10}{"plain",10}{"noinline",18}{"probes",18}");
        foreach (var workload in Workloads)
        {
            var baseline = Statistics.Median(samples["plain"][workload]);
            string Cell(string name)
            {
                var median = Statistics.Median(samples[name][workload]);
                return $"{median,8:0.0} ({median / baseline:0.00}x)";
            }
            Console.WriteLine($"{workload,-10}{baseline,10:0.0}{Cell("noinline"),18}{Cell("probes"),18}");
        }
        return 0;
    }

    private static async Task DotnetAsync(params string[] arguments) =>
        (await ProcessRunner.RunAsync("dotnet", arguments, TimeSpan.FromMinutes(10))).EnsureSuccess("dotnet " + string.Join(' ', arguments));
}
