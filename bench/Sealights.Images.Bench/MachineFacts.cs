using Sealights.Images.Testing;

namespace Sealights.Images.Bench;

/// <summary>Where and when figures were taken: they only compare within one machine and one run.</summary>
internal sealed record MachineFacts(string Cpu, int Cores, double MemoryGb, string Kernel, string Docker, string Revision, DateTimeOffset Date, string LoadAtStart, string? LoadAtEnd = null)
{
    public static async Task<MachineFacts> ReadAsync()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var memoryKb = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var docker = await DockerCli.RunAsync(["version", "--format", "{{.Server.Version}}"]);
        return new MachineFacts(
            cpu,
            Environment.ProcessorCount,
            Math.Round(double.Parse(memoryKb, System.Globalization.CultureInfo.InvariantCulture) / 1024 / 1024, 1),
            File.ReadAllText("/proc/sys/kernel/osrelease").Trim(),
            docker.ExitCode == 0 ? docker.StdOut.Trim() : "unknown",
            await RevisionAsync(),
            DateTimeOffset.UtcNow,
            await LoadAverageAsync());
    }

    /// <summary>The 1, 5 and 15 minute load averages: a busy machine moves wall-clock figures, not CPU ones.</summary>
    public static async Task<string> LoadAverageAsync() =>
        string.Join(' ', (await File.ReadAllTextAsync("/proc/loadavg")).Split(' ').Take(3));

    private static async Task<string> RevisionAsync()
    {
        var head = await ProcessRunner.RunAsync("git", ["rev-parse", "--short=12", "HEAD"], TimeSpan.FromSeconds(30), RepositoryPaths.Root);
        if (head.ExitCode != 0)
        {
            return "unknown";
        }

        var status = await ProcessRunner.RunAsync("git", ["status", "--porcelain", "--untracked-files=no"], TimeSpan.FromSeconds(30), RepositoryPaths.Root);
        return head.StdOut.Trim() + (status.StdOut.Trim().Length > 0 ? "-dirty" : "");
    }
}
