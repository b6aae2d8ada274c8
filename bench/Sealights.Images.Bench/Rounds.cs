using Sealights.Images.Testing;

namespace Sealights.Images.Bench;

/// <summary>
/// The two measuring phases every cold/warm run shares: cold starts interleaved across the
/// configurations (the order reversed every other round, so a slow moment of the machine hits
/// all alike), then the warm invocations, interleaved the same way across one warm container per
/// configuration.
/// </summary>
internal static class Rounds
{
    /// <summary>The sample function's payload: its "quote" path (pricing, a coupon, a few helpers).</summary>
    public const string Payload = """{"action":"quote","items":[{"sku":"A","qty":2},{"sku":"B","qty":12}],"coupon":"TEN"}""";

    public static async Task ColdAsync(IReadOnlyList<Configuration> configurations, int cold, string[] runArguments, EmulatorAddressing addressing = EmulatorAddressing.Environment)
    {
        for (var run = 0; run < cold; run++)
        {
            foreach (var configuration in run % 2 == 0 ? configurations : configurations.Reverse())
            {
                // The previous container's teardown (docker, overlay unmount) must not land in this cold start.
                await Task.Delay(300);
                await using var container = await LambdaContainer.StartAsync(configuration.Image, configuration.Environment, runArguments, addressing: addressing);
                var result = await container.InvokeAsync(Payload);
                var cpu = await ContainerCpu.MillisecondsAsync(container.Name);
                await container.StopAsync();
                var logs = await container.LogsAsync();
                var report = ReportLine.ParseAll(logs).Single();
                configuration.InitMs.Add(ColdStartInit.Milliseconds(logs) ?? double.NaN);
                configuration.ColdLatencyMs.Add(result.Latency.TotalMilliseconds);
                configuration.MemoryMb.Add(report.MaxMemoryUsedMb);
                configuration.ColdCpuMs.Add(cpu ?? double.NaN);
                if (report.PostRuntimeExtensionsDurationMs is { } coldPostRuntime)
                {
                    configuration.ColdPostRuntimeMs.Add(coldPostRuntime);
                }
                AgentFigures.Read(logs, configuration);
            }
        }
    }

    /// <summary>
    /// The docker run flags of every measured container: <c>/tmp</c> a file system of its own, as
    /// on Lambda (a writable ephemeral-storage volume under a read-only root), not the image's
    /// overlay, where each small file the agent spools cost it 250–1,300 µs of CPU against ~60 µs
    /// on a tmpfs (measured 2026-12-07: write, rename, 2,000 files of 7 KB, `--cpus 1`); and
    /// <paramref name="cpus"/> as a CPU quota when given.
    /// </summary>
    public static string[] RunArguments(string? cpus) =>
        cpus is null or "none" ? ["--tmpfs", "/tmp:rw,exec,size=512m"] : ["--tmpfs", "/tmp:rw,exec,size=512m", "--cpus", cpus];

    /// <summary>
    /// Warm invocations in a row per container: each waits for the previous one's post-runtime work
    /// (the emulator dispatches only once every extension is back in <c>next</c>), as a test suite
    /// calling the function one test after the other does. One invocation per container in turn
    /// would hide that work in the other containers' turns.
    /// </summary>
    private const int WarmBlock = 20;

    /// <summary>
    /// One warm container per configuration, all started first; then the warm invocations in
    /// rounds of <see cref="WarmBlock"/> back-to-back invocations per configuration, the order
    /// reversed every other round (as the cold starts), so a slow moment of the machine lands on
    /// every configuration alike. Run one container after the other, a row's warm p50 moved by
    /// ±1 ms between runs of the same code on an idle machine, more than the warm budget it is
    /// compared against (issue 15: 0.5 ms).
    /// </summary>
    public static async Task WarmAsync(IEnumerable<Configuration> configurations, int warm, string[] runArguments, EmulatorAddressing addressing = EmulatorAddressing.Environment)
    {
        var started = new List<(Configuration Configuration, LambdaContainer Container)>();
        try
        {
            foreach (var configuration in configurations)
            {
                var container = await LambdaContainer.StartAsync(configuration.Image, configuration.Environment, runArguments, addressing: addressing);
                started.Add((configuration, container));
                await container.InvokeAsync(Payload);
            }

            for (var (round, done) = (0, 0); done < warm; round++, done += WarmBlock)
            {
                foreach (var (configuration, container) in round % 2 == 0 ? started : Enumerable.Reverse(started))
                {
                    for (var i = done; i < Math.Min(done + WarmBlock, warm); i++)
                    {
                        configuration.WarmLatencyMs.Add((await container.InvokeAsync(Payload)).Latency.TotalMilliseconds);
                    }
                }
            }

            foreach (var (configuration, container) in started)
            {
                await ReadWarmAsync(configuration, container, warm);
            }
        }
        finally
        {
            foreach (var (_, container) in started)
            {
                await container.DisposeAsync();
            }
        }
    }

    private static async Task ReadWarmAsync(Configuration configuration, LambdaContainer container, int warm)
    {
        var logs = await container.WaitForLogAsync(l => ReportLine.ParseAll(l).Count >= warm + 1, TimeSpan.FromSeconds(30));
        await container.StopAsync();
        var finalLogs = await container.LogsAsync();
        if (AgentFigures.AgentCpu(finalLogs) is { } agentCpu)
        {
            configuration.WarmAgentCpuMs.Add(agentCpu);
        }
        // What the agent warned about and its SHUTDOWN summary (drops, losses): a figure is only worth
        // reading when the agent delivered what it was given.
        foreach (var line in AgentFigures.Noteworthy(finalLogs))
        {
            Console.WriteLine($"{configuration.Name} warm container: {line}");
        }
        // Post-runtime time of each invocation in order (the first is the cold one): a warm invocation
        // sent right after the previous response waits for the previous one's post-runtime work.
        var reports = ReportLine.ParseAll(logs);
        configuration.PostRuntimeInOrder.AddRange(reports.Select(r => r.PostRuntimeExtensionsDurationMs ?? double.NaN));
        foreach (var report in reports.Skip(1))
        {
            configuration.WarmDurationMs.Add(report.DurationMs);
            configuration.WarmMemoryMb.Add(report.MaxMemoryUsedMb);
            // AWS's emulator has no such field: the column stays empty ("-") rather than 0.
            if (report.PostRuntimeExtensionsDurationMs is { } postRuntime)
            {
                configuration.PostRuntimeMs.Add(postRuntime);
            }
        }
    }
}
