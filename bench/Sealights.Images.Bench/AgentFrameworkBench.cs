using System.Globalization;
using Sealights.Images.Testing;

namespace Sealights.Images.Bench;

/// <summary>
/// Which .NET the agent is built on (issue 18: keep the better one, say which and why): the agent
/// published NativeAOT for net10.0 (the product) and for net8.0 from the same sources, each in a
/// coverage-ready image on the same stand-in base, the same sample function on each, cold starts
/// interleaved with the plain function in one run. Prints binary size, init overhead against
/// `off`, the agent's time to listen (after the launcher started) and its peak RSS.
/// </summary>
internal static class AgentFrameworkBench
{
    private static readonly string[] Frameworks = ["net10.0", "net8.0"];

    public static async Task<int> RunAsync(string[] args)
    {
        var cold = 10;
        string[] runArguments = Rounds.RunArguments(null);
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--cold": cold = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--cpus": runArguments = Rounds.RunArguments(Value()); break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]} (agent-frameworks [--cold N] [--cpus N])");
                    return 2;
            }
        }

        var load = await MachineFacts.LoadAverageAsync();
        Console.WriteLine($"agent-frameworks: {cold} interleaved cold starts per row{(runArguments.Length > 0 ? $", {string.Join(' ', runArguments)}" : "")}; load average {load}");
        await StandInImages.EnsureBaseImagesAsync();
        var baseImage = StandInImages.Base("10");
        var plain = await StandInImages.BuildSampleAsync("net10.0");
        var binaries = new Dictionary<string, long>();
        var configurations = new List<Configuration> { new("off", plain, new Dictionary<string, string>()) };

        var backendPort = FreePorts.Next();
        var token = SealightsTokens.Create($"http://127.0.0.1:{backendPort}/api");
        var records = Directory.CreateTempSubdirectory("sl-bench-frameworks-");
        await using (var backend = await TestBackendProcess.StartAsync(records.FullName, backendPort, token, "bench-execution"))
        {
            var delivering = new Dictionary<string, string> { ["SL_TOKEN"] = token, ["SL_BUILD_SESSION_ID"] = "bench-bsid" };
            foreach (var framework in Frameworks)
            {
                binaries[framework] = new FileInfo(await CoverageImages.PublishAgentAsync("linux-x64", framework)).Length;
                var image = await CoverageImages.BuildAsync(baseImage, agentFramework: framework);
                configurations.Add(new Configuration($"on/{framework}", await StandInImages.BuildSampleAsync("net10.0", image), delivering));
            }

            await Rounds.ColdAsync(configurations, cold, runArguments);
            await backend.StopAsync();
        }
        records.Delete(recursive: true);

        var off = configurations[0];
        Console.WriteLine();
        Console.WriteLine($"load average at the end {await MachineFacts.LoadAverageAsync()}");
        Console.WriteLine("| agent | binary | init p50 | init overhead, median (paired) | ratio | agent listening after the launcher started, p50 | agent peak RSS, p50 | n |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        Console.WriteLine($"| off | - | {Ms(Statistics.Median(off.InitMs))} | - | - | - | - | {off.InitMs.Count} |");
        foreach (var framework in Frameworks)
        {
            var row = configurations.Single(c => c.Name == $"on/{framework}");
            Console.WriteLine($"| {framework} | {binaries[framework] / 1024.0 / 1024.0:0.0} MB | {Ms(Statistics.Median(row.InitMs))} "
                + $"| {Ms(Statistics.Median(row.InitMs) - Statistics.Median(off.InitMs))} ({Ms(Statistics.MedianOfDifferences(row.InitMs, off.InitMs))}) "
                + $"| {Statistics.Median(row.InitMs) / Statistics.Median(off.InitMs):0.000}× "
                + $"| {Ms(Statistics.Median(row.AgentReadyMs))} | {Statistics.Median(row.AgentRssMb):0.0} MB | {row.InitMs.Count} |");
        }
        return 0;
    }

    private static string Ms(double value) => value.ToString("0.00", CultureInfo.InvariantCulture) + " ms";
}
