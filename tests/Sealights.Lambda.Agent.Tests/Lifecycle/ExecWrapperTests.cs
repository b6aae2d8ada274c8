using System.Diagnostics;
using System.Reflection;
using Sealights.Lambda.Agent.Lifecycle;

namespace Sealights.Lambda.Agent.Tests.Lifecycle;

/// <summary>
/// The exec wrapper (layer/sealights/bin/exec-wrapper) run by bash as Lambda's bootstrap runs it,
/// with the status file held in each state the launcher and the agent can leave it in: what the
/// runtime is started with, and the one line (or none) the wrapper says.
/// </summary>
public sealed class ExecWrapperTests : IDisposable
{
    private const int WaitMs = 300;

    // Stands in for the runtime: prints what the wrapper gave it.
    private static readonly string[] Runtime = ["/bin/bash", "-c", "echo \"port=${DOTNET_DiagnosticPorts:-none} noinline=${DOTNET_JitNoInline:-unset}\""];

    private static readonly string Wrapper = Path.Combine(
        typeof(ExecWrapperTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "LayerDirectory").Value!,
        "sealights", "bin", "exec-wrapper");

    private readonly string _root = Directory.CreateTempSubdirectory("sl-wrapper-").FullName;

    private string State => Path.Combine(_root, "state");

    private string StatusFile => LauncherHandOver.StatusFile(State);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    public static TheoryData<string, string?, bool, string?> States => new()
    {
        // state, status file content (null: no file), traced, the wrapper's line
        { "missing (no launcher)", null, false, null },
        { "empty", "", false, $"the agent's status file {{status}} held no verdict after {WaitMs} ms (read ''): this runtime runs without coverage" },
        { "partial word", "o", false, $"the agent's status file {{status}} held no verdict after {WaitMs} ms (read 'o'): this runtime runs without coverage" },
        { "starting", "starting\n", false, $"the agent did not start within {WaitMs} ms: this runtime runs without coverage" },
        { "off", "off\n", false, null },
        { "on", "on\n", true, null },
    };

    [Theory]
    [MemberData(nameof(States))]
    public async Task A_status_file_held_in_one_state_gives_one_decision_and_at_most_one_line(string state, string? content, bool traced, string? line)
    {
        if (content is not null)
        {
            await File.WriteAllTextAsync(StatusFile, content);
        }

        var run = await RunWrapperAsync();

        var socket = Path.Combine(State, "dotnet-diagnostic.sock");
        Assert.Equal(traced ? $"port={socket},connect,nosuspend noinline=1" : "port=none noinline=unset", run.StdOut.Trim());
        if (line is null)
        {
            Assert.Equal("", run.StdErr);
            Assert.Null(LauncherHandOver.UntracedByWrapper(State));
        }
        else
        {
            var expected = "[sealights-agent] " + line.Replace("{status}", StatusFile, StringComparison.Ordinal);
            Assert.Equal(expected + "\n", run.StdErr);
            // What the agent reads so as not to say it a second time.
            Assert.Equal(expected["[sealights-agent] ".Length..expected.IndexOf(": this runtime", StringComparison.Ordinal)], LauncherHandOver.UntracedByWrapper(State));
        }
        Assert.True(run.ExitCode == 0, $"{state}: the wrapper exited with {run.ExitCode}");
    }

    [Theory]
    [InlineData("")]
    [InlineData("o")]
    [InlineData("starting\n")]
    public async Task Anything_but_a_whole_verdict_is_waited_on_until_the_agent_says_on(string before)
    {
        await File.WriteAllTextAsync(StatusFile, before);

        var running = RunWrapperAsync(waitMs: 5000);
        await Task.Delay(150);
        LauncherHandOver.AnnounceCollecting(State);
        var run = await running;

        Assert.StartsWith("port=" + Path.Combine(State, "dotnet-diagnostic.sock"), run.StdOut);
        Assert.Equal("", run.StdErr);
    }

    [Fact]
    public async Task A_verdict_completed_by_a_second_write_counts_only_once_whole()
    {
        await File.WriteAllTextAsync(StatusFile, "o");

        var running = RunWrapperAsync(waitMs: 5000);
        await Task.Delay(150);
        await File.AppendAllTextAsync(StatusFile, "ff\n");
        var run = await running;

        Assert.Equal("port=none noinline=unset", run.StdOut.Trim());
        Assert.Equal("", run.StdErr);
    }

    [Fact]
    public async Task An_instrumented_function_does_not_wait_for_a_starting_agent()
    {
        // Its probes count from the first call: the runtime gets the port at once, however long
        // the agent takes (here it never decides).
        await File.WriteAllTextAsync(StatusFile, "starting\n");
        var taskRoot = Directory.CreateDirectory(Path.Combine(_root, "task")).FullName;
        await File.WriteAllTextAsync(Path.Combine(taskRoot, "sealights-instrumented.json"), "{}");

        var run = await RunWrapperAsync(waitMs: 5000, taskRoot: taskRoot);

        Assert.StartsWith("port=" + Path.Combine(State, "dotnet-diagnostic.sock") + ",connect,nosuspend", run.StdOut);
        Assert.Equal("", run.StdErr);
        // Waiting, it would have ended in "the agent did not start within 5000 ms" and no port.
        Assert.Null(LauncherHandOver.UntracedByWrapper(State));
    }

    [Theory]
    [InlineData("off\n", "port=none")]
    [InlineData(null, "port=none")]
    public async Task An_instrumented_function_still_follows_an_agent_that_decided_off_or_a_missing_launcher(string? content, string expected)
    {
        if (content is not null)
        {
            await File.WriteAllTextAsync(StatusFile, content);
        }
        var taskRoot = Directory.CreateDirectory(Path.Combine(_root, "task")).FullName;
        await File.WriteAllTextAsync(Path.Combine(taskRoot, "sealights-instrumented.json"), "{}");

        var run = await RunWrapperAsync(taskRoot: taskRoot);

        Assert.StartsWith(expected + " ", run.StdOut);
        Assert.Equal("", run.StdErr);
    }

    [Fact]
    public async Task Announcing_collecting_never_shows_the_wrapper_an_empty_or_partial_file()
    {
        // The wrapper polls the file while the agent writes it; each write must replace it whole.
        File.WriteAllText(StatusFile, "on\n");
        using var stop = new CancellationTokenSource();
        var seen = new HashSet<string>();
        var reader = Task.Run(() =>
        {
            var reads = 0;
            while (!stop.IsCancellationRequested || reads < 1000)
            {
                try
                {
                    seen.Add(File.ReadAllText(StatusFile));
                }
                catch (FileNotFoundException)
                {
                    seen.Add("<missing>");
                }
                reads++;
            }
            return reads;
        });

        for (var i = 0; i < 3000; i++)
        {
            LauncherHandOver.AnnounceCollecting(State);
        }
        stop.Cancel();
        var reads = await reader;

        Assert.True(reads >= 1000, $"{reads} reads");
        Assert.Equal(["on\n"], seen);
        Assert.Equal([Path.GetFileName(StatusFile)], Directory.GetFiles(_root).Select(Path.GetFileName));
    }

    private async Task<(int ExitCode, string StdOut, string StdErr)> RunWrapperAsync(int waitMs = WaitMs, string? taskRoot = null)
    {
        var start = new ProcessStartInfo("/bin/bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Wrapper);
        foreach (var argument in Runtime)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["SL_AGENT_STATE_DIR"] = State;
        start.Environment["SL_AGENT_VERDICT_WAIT_MS"] = waitMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment.Remove("DOTNET_DiagnosticPorts");
        start.Environment.Remove("SL_EXEC_WRAPPER");
        // Where the wrapper looks for the instrumented marker (/var/task on Lambda).
        start.Environment["LAMBDA_TASK_ROOT"] = taskRoot ?? Path.Combine(_root, "no-task-root");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
