using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Sealights.Lambda.Emulator.Tests.Infrastructure;

/// <summary>How to start the emulator for one test.</summary>
public sealed record EmulatorStart
{
    /// <summary>Arguments after the bootstrap (the last one becomes _HANDLER).</summary>
    public IReadOnlyList<string> BootstrapArguments { get; init; } = [];

    /// <summary>Extra environment for the emulator (the container's environment).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Extra flags, before the bootstrap.</summary>
    public IReadOnlyList<string> Flags { get; init; } = [];

    /// <summary>When false, no address flags are passed (for tests of the env fallbacks).</summary>
    public bool PassAddressFlags { get; init; } = true;
}

/// <summary>The response the invoke endpoint gave, and how long it took.</summary>
public sealed record InvokeResponse(int StatusCode, string Body, string? FunctionError, string? RequestId, TimeSpan Latency, DateTimeOffset CompletedAt)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string? ErrorType => Json.TryGetProperty("errorType", out var t) ? t.GetString() : null;

    public string? ErrorMessage => Json.TryGetProperty("errorMessage", out var m) ? m.GetString() : null;

    public override string ToString() => $"{StatusCode} {FunctionError} {RequestId} {Latency.TotalMilliseconds:F0} ms: {Body}";
}

/// <summary>
/// The built emulator (aws-lambda-rie.dll) run with <c>dotnet</c> as a real process (or the
/// binary named by SL_EMULATOR_EXECUTABLE), both endpoints on 127.0.0.1 port 0; the ports come
/// from its startup line.
/// </summary>
public sealed partial class EmulatorProcess : IAsyncDisposable
{
    public const int SIGTERM = 15;
    public const int SIGKILL = 9;

    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    private readonly Process _process;
    private readonly ITestOutputHelper? _output;
    private readonly object _gate = new();
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];

    private EmulatorProcess(Process process, ITestOutputHelper? output)
    {
        _process = process;
        _output = output;
    }

    public int InvokePort { get; private set; }

    public int RuntimeApiPort { get; private set; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything written to stdout: the platform lines and the children's output.</summary>
    public IReadOnlyList<string> Stdout
    {
        get
        {
            lock (_gate)
            {
                return [.. _stdout];
            }
        }
    }

    /// <summary>The emulator's diagnostics (and the children's stderr).</summary>
    public IReadOnlyList<string> Stderr
    {
        get
        {
            lock (_gate)
            {
                return [.. _stderr];
            }
        }
    }

    public IReadOnlyList<string> ReportLines => Stdout.Where(l => l.StartsWith("REPORT RequestId: ", StringComparison.Ordinal)).ToList();

    public static string EmulatorAssembly =>
        System.Environment.GetEnvironmentVariable("SL_EMULATOR_DLL")
        ?? typeof(EmulatorProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "EmulatorAssembly").Value!;

    public static async Task<EmulatorProcess> StartAsync(FunctionSandbox sandbox, string bootstrap, EmulatorStart? start = null, ITestOutputHelper? output = null, bool waitUntilReady = true)
    {
        start ??= new EmulatorStart();
        // SL_EMULATOR_EXECUTABLE runs the suite against a published binary (e.g. the NativeAOT one).
        var executable = System.Environment.GetEnvironmentVariable("SL_EMULATOR_EXECUTABLE");
        Assert.True(executable is not null || File.Exists(EmulatorAssembly), $"emulator not built at {EmulatorAssembly}");
        var info = new ProcessStartInfo(executable ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = sandbox.Root,
        };
        if (executable is null)
        {
            info.ArgumentList.Add(EmulatorAssembly);
        }
        if (start.PassAddressFlags)
        {
            info.ArgumentList.Add("--runtime-interface-emulator-address");
            info.ArgumentList.Add("127.0.0.1:0");
            info.ArgumentList.Add("--runtime-api-address");
            info.ArgumentList.Add("127.0.0.1:0");
        }
        foreach (var flag in start.Flags)
        {
            info.ArgumentList.Add(flag);
        }
        info.ArgumentList.Add(bootstrap);
        foreach (var argument in start.BootstrapArguments)
        {
            info.ArgumentList.Add(argument);
        }
        // A clean Lambda-ish environment: nothing of ours or Lambda's leaks in from the host.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("SL_EMULATOR_", StringComparison.Ordinal)
                     || k.StartsWith("AWS_", StringComparison.Ordinal) || k == "_HANDLER" || k == "LOG_LEVEL").ToList())
        {
            info.Environment.Remove(name);
        }
        info.Environment["SL_EMULATOR_EXTENSIONS_DIR"] = sandbox.ExtensionsDirectory;
        foreach (var (name, value) in start.Environment)
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        var emulator = new EmulatorProcess(process, output);
        process.OutputDataReceived += (_, e) => emulator.Append(emulator._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => emulator.Append(emulator._stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (waitUntilReady)
        {
            var ready = await emulator.WaitForStderrAsync(l => StartupLine().IsMatch(l), TimeSpan.FromSeconds(30));
            var match = StartupLine().Match(ready);
            emulator.InvokePort = int.Parse(match.Groups[1].Value);
            emulator.RuntimeApiPort = int.Parse(match.Groups[2].Value);
        }
        return emulator;
    }

    public async Task<InvokeResponse> InvokeAsync(string payload, IReadOnlyDictionary<string, string>? headers = null, string functionName = "function")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{InvokePort}/2015-03-31/functions/{functionName}/invocations")
        {
            Content = new StringContent(payload),
        };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        var stopwatch = Stopwatch.StartNew();
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        stopwatch.Stop();
        return new InvokeResponse(
            (int)response.StatusCode,
            body,
            response.Headers.TryGetValues("X-Amz-Function-Error", out var error) ? error.Single() : null,
            response.Headers.TryGetValues("X-Amzn-RequestId", out var id) ? id.Single() : null,
            stopwatch.Elapsed,
            DateTimeOffset.UtcNow);
    }

    public Task<string> WaitForStdoutAsync(Func<string, bool> predicate, TimeSpan? timeout = null) => WaitForAsync(_stdout, predicate, timeout ?? TimeSpan.FromSeconds(10));

    public Task<string> WaitForStderrAsync(Func<string, bool> predicate, TimeSpan? timeout = null) => WaitForAsync(_stderr, predicate, timeout ?? TimeSpan.FromSeconds(10));

    /// <summary>The REPORT line of a request: printed when the invoke completes, which may be after the caller got its answer.</summary>
    public Task<string> WaitForReportAsync(string requestId, TimeSpan? timeout = null) =>
        WaitForStdoutAsync(l => l.StartsWith($"REPORT RequestId: {requestId}\t", StringComparison.Ordinal), timeout);

    public void Signal(int signal) => Assert.Equal(0, kill(_process.Id, signal));

    /// <summary>SIGTERM, then the exit code (as docker stop).</summary>
    public async Task<int> StopAsync(TimeSpan? timeout = null)
    {
        Signal(SIGTERM);
        Assert.True(await WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(10)), "the emulator did not exit after SIGTERM");
        return _process.ExitCode;
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!_process.HasExited)
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(20);
        }
        // Let the pipes drain what was written last.
        await Task.Delay(50);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = kill(_process.Id, SIGTERM);
            if (!await WaitForExitAsync(TimeSpan.FromSeconds(5)))
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        if (_output is not null)
        {
            try
            {
                _output.WriteLine("---- emulator stdout ----\n" + string.Join('\n', Stdout));
                _output.WriteLine("---- emulator stderr ----\n" + string.Join('\n', Stderr));
            }
            catch (InvalidOperationException)
            {
                // The test is over.
            }
        }
        _process.Dispose();
    }

    /// <summary>A loopback port nobody listens on (for subscribers that are down).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(List<string> lines, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            lines.Add(line);
        }
    }

    private async Task<string> WaitForAsync(List<string> lines, Func<string, bool> predicate, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            lock (_gate)
            {
                if (lines.FirstOrDefault(predicate) is { } found)
                {
                    return found;
                }
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no matching output line within {timeout}.\nstdout:\n{string.Join('\n', Stdout)}\nstderr:\n{string.Join('\n', Stderr)}");
            }
            if (_process.HasExited)
            {
                await Task.Delay(100);
                lock (_gate)
                {
                    if (lines.FirstOrDefault(predicate) is { } late)
                    {
                        return late;
                    }
                }
                throw new InvalidOperationException($"the emulator exited ({_process.ExitCode}).\nstdout:\n{string.Join('\n', Stdout)}\nstderr:\n{string.Join('\n', Stderr)}");
            }
            await Task.Delay(20);
        }
    }

    [GeneratedRegex(@"Invoke endpoint: http://127\.0\.0\.1:(\d+)/2015-03-31/functions/function/invocations; Runtime API: 127\.0\.0\.1:(\d+)")]
    private static partial Regex StartupLine();

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
