using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace Sealights.Lambda.Agent.Tests.Infrastructure;

/// <summary>
/// The fixture function as a real dotnet process: it runs the scenario named on its command
/// line, prints "ready", then runs one scenario per line sent (answering "done &lt;name&gt;") until
/// "exit". Its runtime connects to the agent's port the way the exec wrapper arranges it.
/// </summary>
internal sealed class FixtureProcess : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>How long an arm64 fixture (through QEMU, several times slower) may take for what takes <see cref="Timeout"/> natively.</summary>
    public static readonly TimeSpan Arm64Timeout = TimeSpan.FromMinutes(3);

    private readonly Process _process;
    private readonly TimeSpan _timeout;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    private FixtureProcess(Process process, TimeSpan timeout)
    {
        _process = process;
        _timeout = timeout;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.Writer.TryComplete();
            }
            else
            {
                _lines.Writer.TryWrite(e.Data);
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts the fixture.</summary>
    /// <param name="assemblyPath">The fixture build to run: a .dll under the machine's dotnet, else a self-contained app host.</param>
    /// <param name="scenario">What it runs at start (all, late, idle).</param>
    /// <param name="runtimePortSetting">DOTNET_DiagnosticPorts, as the exec wrapper sets it; null for none.</param>
    /// <param name="noInline">DOTNET_JitNoInline=1, which the exec wrapper sets for coverage.</param>
    /// <param name="environment">More variables, e.g. <c>AWS_LAMBDA_RUNTIME_API</c> for the probes' invocation boundary.</param>
    /// <param name="arm64Root">
    /// An unpacked arm64 stand-in (Sealights.Images.Testing.Arm64Runtime): the fixture then runs on
    /// its arm64 .NET runtime, through QEMU; null: on this machine's dotnet.
    /// </param>
    public static FixtureProcess Start(string assemblyPath, string scenario, string? runtimePortSetting, bool noInline = true, IReadOnlyDictionary<string, string>? environment = null, string? arm64Root = null)
    {
        var appHost = !assemblyPath.EndsWith(".dll", StringComparison.Ordinal);
        var start = new ProcessStartInfo(arm64Root is not null ? Path.Combine(arm64Root, "var", "lang", "bin", "dotnet") : appHost ? assemblyPath : "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (!appHost)
        {
            start.ArgumentList.Add(assemblyPath);
        }

        start.ArgumentList.Add(scenario);
        start.Environment.Remove("DOTNET_DiagnosticPorts");
        // Only what a test gives (InvocationBoundaryTests sets it in this process): with it and no
        // port, the probes library takes the fixture for a function with coverage off.
        start.Environment.Remove("AWS_LAMBDA_RUNTIME_API");
        if (runtimePortSetting is not null)
        {
            start.Environment["DOTNET_DiagnosticPorts"] = runtimePortSetting;
        }

        if (noInline)
        {
            start.Environment["DOTNET_JitNoInline"] = "1";
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        if (arm64Root is not null)
        {
            // The image's arm64 libraries; the test host's DOTNET_ROOT would point at x64 frameworks.
            start.Environment["QEMU_LD_PREFIX"] = arm64Root;
            start.Environment.Remove("DOTNET_ROOT");
        }

        return new FixtureProcess(Process.Start(start)!, arm64Root is null ? Timeout : Arm64Timeout);
    }

    /// <summary>Waits until the fixture printed <paramref name="expected"/>.</summary>
    public async Task WaitForLineAsync(string expected)
    {
        using var timeout = new CancellationTokenSource(_timeout);
        try
        {
            while (await _lines.Reader.WaitToReadAsync(timeout.Token))
            {
                while (_lines.Reader.TryRead(out var line))
                {
                    if (line == expected)
                    {
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        throw new TimeoutException($"the fixture did not print '{expected}' (exited: {_process.HasExited})");
    }

    /// <summary>Waits for a line starting with <paramref name="prefix"/> and returns it (e.g. a figure the fixture printed).</summary>
    public async Task<string> WaitForLineStartingAsync(string prefix)
    {
        using var timeout = new CancellationTokenSource(_timeout);
        try
        {
            while (await _lines.Reader.WaitToReadAsync(timeout.Token))
            {
                while (_lines.Reader.TryRead(out var line))
                {
                    if (line.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        return line;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        throw new TimeoutException($"the fixture did not print '{prefix}…' (exited: {_process.HasExited})");
    }

    /// <summary>Runs one scenario in the live process and waits for it to finish.</summary>
    public async Task RunAsync(string scenario)
    {
        await _process.StandardInput.WriteLineAsync(scenario);
        await _process.StandardInput.FlushAsync();
        await WaitForLineAsync("done " + scenario);
    }

    /// <summary>Lets the fixture exit normally (the runtime flushes its sessions at exit).</summary>
    public async Task ExitAsync()
    {
        await _process.StandardInput.WriteLineAsync("exit");
        await _process.StandardInput.FlushAsync();
        using var timeout = new CancellationTokenSource(_timeout);
        await _process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>SIGTERM, as Lambda ends a runtime; returns the exit code (143: the signal's default action).</summary>
    public async Task<int> TerminateAsync()
    {
        await SignalAsync("TERM");
        using var timeout = new CancellationTokenSource(_timeout);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM and returns at once (the process exits when its handlers let it).</summary>
    public Task SignalTerminateAsync() => SignalAsync("TERM");

    /// <summary>Sends <paramref name="signal"/> ("TERM", "STOP", "CONT": Lambda's end, freeze and thaw) and returns once it is sent.</summary>
    public Task SignalAsync(string signal)
    {
        // kill(2) itself, not a kill process: starting one took long enough under load for a test
        // that flushes "just after SIGTERM" to come after the runtime's 100 ms wait for a session.
        var number = signal switch
        {
            "TERM" => 15,
            "STOP" => 19,
            "CONT" => 18,
            _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "TERM, STOP or CONT"),
        };
        if (Kill(_process.Id, number) != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return Task.CompletedTask;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>SIGKILL: nothing buffered in the runtime gets out.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        using var timeout = new CancellationTokenSource(_timeout);
        await _process.WaitForExitAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                await KillAsync();
            }
            catch (InvalidOperationException)
            {
            }
        }

        _process.Dispose();
    }
}
