using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Sealights.Lambda.Agent.Lifecycle;

namespace Sealights.Lambda.Agent.Tests.Lifecycle;

/// <summary>
/// The exec wrapper (with the agent collecting) stopped as AWS's emulator stops a runtime: one
/// SIGTERM to the whole process group the wrapper leads. Bash stand-ins play the agent (answers
/// SIGUSR1 with the flushed marker after 100 ms) and the runtime (logs each SIGTERM and whether
/// the marker was there when it came).
/// </summary>
public sealed class ProcessGroupExecWrapperTests : IDisposable
{
    private static readonly string Wrapper = Path.Combine(
        typeof(ProcessGroupExecWrapperTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "LayerDirectory").Value!,
        "sealights", "bin", "exec-wrapper");

    private readonly string _root = Directory.CreateTempSubdirectory("sl-wrapper-group-").FullName;
    private readonly List<Process> _started = [];

    private string State => Path.Combine(_root, "state");

    private string Log => Path.Combine(_root, "log");

    public void Dispose()
    {
        foreach (var process in _started)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            process.Dispose();
        }
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task A_group_SIGTERM_reaches_the_runtime_once_and_only_after_the_agents_flush()
    {
        var wrapper = await StartAsync("""
            trap 'if [ -e "$STATE/flushed" ]; then echo "runtime: SIGTERM after the flush" >> "$LOG"; else echo "runtime: SIGTERM before the flush" >> "$LOG"; fi; exit 0' TERM
            """);

        Kill($"-{wrapper.Id}", "TERM");
        await wrapper.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);

        // The order is the point (the flush before the runtime's SIGTERM), and the log shows it.
        Assert.Equal(["agent: SIGUSR1", "runtime: SIGTERM after the flush"], ReadLog().Where(l => !l.StartsWith("runtime: ready", StringComparison.Ordinal)));
        Assert.Equal(0, wrapper.ExitCode);
    }

    [Fact]
    public async Task A_runtime_that_outlives_the_forwarded_SIGTERM_is_killed_by_the_wrapper_which_then_exits()
    {
        // Out of the wrapper's group, a runtime that ignores SIGTERM would also escape the group
        // SIGKILL that follows: the wrapper kills it itself.
        var wrapper = await StartAsync("""
            trap 'echo "runtime: SIGTERM ignored" >> "$LOG"' TERM
            """);

        var sent = Stopwatch.StartNew();
        Kill($"-{wrapper.Id}", "TERM");
        await wrapper.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);

        Assert.Equal(137, wrapper.ExitCode);
        Assert.Equal(["agent: SIGUSR1", "runtime: SIGTERM ignored"], ReadLog().Where(l => !l.StartsWith("runtime: ready", StringComparison.Ordinal)));
        // The flush's 100 ms, then the wrapper's grace for the runtime, before its SIGKILL: a lower
        // bound only (load makes it longer, never shorter); how long it takes is the bench's business.
        Assert.True(sent.ElapsedMilliseconds >= 400, $"killed after {sent.ElapsedMilliseconds} ms: no grace was given");
    }

    /// <summary>
    /// Starts the agent stand-in, then the wrapper as the leader of a new process group and
    /// session (setsid), with a runtime that runs <paramref name="onSigterm"/> and loops; returns
    /// once the runtime runs.
    /// </summary>
    private async Task<Process> StartAsync(string onSigterm)
    {
        Directory.CreateDirectory(State);
        await File.WriteAllTextAsync(LauncherHandOver.StatusFile(State), "on\n");
        var agent = Start("/bin/bash", ["-c", """
            trap 'echo "agent: SIGUSR1" >> "$LOG"; sleep 0.1; : > "$STATE/flushed"' USR1
            printf '%s' $$ > "$STATE/agent.pid"
            while :; do sleep 0.05 & wait $!; done
            """]);
        var runtime = onSigterm + """

            echo "runtime: ready" >> "$LOG"
            while :; do sleep 0.01 & wait $!; done
            """;
        var wrapper = Start("setsid", ["/bin/bash", Wrapper, "/bin/bash", "-c", runtime]);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!(File.Exists(Log) && ReadLog().Contains("runtime: ready")) || !File.Exists(Path.Combine(State, "agent.pid")))
        {
            Assert.True(DateTime.UtcNow < deadline, "the runtime or the agent did not start");
            Assert.False(agent.HasExited, "the agent stand-in exited");
            await Task.Delay(20);
        }
        return wrapper;
    }

    private Process Start(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["SL_AGENT_STATE_DIR"] = State;
        start.Environment["STATE"] = State;
        start.Environment["LOG"] = Log;
        start.Environment.Remove("SL_EXEC_WRAPPER");
        var process = Process.Start(start)!;
        _started.Add(process);
        return process;
    }

    private static void Kill(string target, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, "--", target])!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private string[] ReadLog() => File.ReadAllLines(Log);
}
