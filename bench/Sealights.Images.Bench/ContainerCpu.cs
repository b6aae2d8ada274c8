using System.Globalization;
using Sealights.Images.Testing;

namespace Sealights.Images.Bench;

/// <summary>
/// CPU time a container has used so far (all its processes: emulator, extensions, runtime), from
/// its cgroup. Unlike wall-clock figures it hardly moves when other work shares the machine, so
/// it shows what a configuration costs even on a busy 2-core host. Null where the cgroup layout
/// is unknown.
/// </summary>
internal static class ContainerCpu
{
    public static async Task<double?> MillisecondsAsync(string container)
    {
        var id = await DockerCli.InspectAsync(container, "{{.Id}}");
        // cgroup v1 (cgroupfs driver), then v2 with the systemd and the cgroupfs drivers.
        string[] usageFiles = [$"/sys/fs/cgroup/cpuacct/docker/{id}/cpuacct.usage"];
        string[] statFiles = [$"/sys/fs/cgroup/system.slice/docker-{id}.scope/cpu.stat", $"/sys/fs/cgroup/docker/{id}/cpu.stat"];
        foreach (var file in usageFiles.Where(File.Exists))
        {
            return double.Parse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture) / 1e6;
        }

        foreach (var file in statFiles.Where(File.Exists))
        {
            var line = File.ReadLines(file).FirstOrDefault(l => l.StartsWith("usage_usec ", StringComparison.Ordinal));
            if (line is not null)
            {
                return double.Parse(line["usage_usec ".Length..], CultureInfo.InvariantCulture) / 1e3;
            }
        }

        return null;
    }
}
