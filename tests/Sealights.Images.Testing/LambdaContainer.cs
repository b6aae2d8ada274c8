using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Sealights.Images.Testing;

/// <summary>An invocation's answer as the caller of the invoke endpoint sees it.</summary>
public sealed record InvokeResult(int StatusCode, string Body, string? FunctionError, TimeSpan Latency);

/// <summary>
/// A function image running in a container under a Lambda emulator (ours, or AWS's with
/// <see cref="EmulatorAddressing.Flags"/>), on the host network with its own invoke and Runtime API ports.
/// </summary>
public sealed class LambdaContainer : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(6) };

    private LambdaContainer(string name, int invokePort, int runtimeApiPort)
    {
        Name = name;
        InvokePort = invokePort;
        RuntimeApiPort = runtimeApiPort;
    }

    // Invocations asked for through InvokeAsync: StopAsync waits for as many REPORT lines.
    private int _invocations;

    public string Name { get; }

    public int InvokePort { get; }

    public int RuntimeApiPort { get; }

    /// <param name="command">The image's CMD (the handler) instead of its own.</param>
    /// <param name="addressing">
    /// How the emulator gets its addresses: the environment (default, our emulator) or flags
    /// (AWS's emulator or ours; see <see cref="EmulatorAddressing.Flags"/>).
    /// </param>
    public static async Task<LambdaContainer> StartAsync(
        string image,
        IReadOnlyDictionary<string, string>? environment = null,
        IEnumerable<string>? extraRunArguments = null,
        IEnumerable<string>? command = null,
        EmulatorAddressing addressing = EmulatorAddressing.Environment)
    {
        var container = new LambdaContainer($"sl-it-{Guid.NewGuid():N}"[..20], FreePorts.Next(), FreePorts.Next());
        var invokeAddress = $"127.0.0.1:{container.InvokePort}";
        var runtimeApiAddress = $"127.0.0.1:{container.RuntimeApiPort}";
        var arguments = new List<string> { "run", "--detach", "--network", "host", "--name", container.Name };
        if (addressing == EmulatorAddressing.Environment)
        {
            arguments.AddRange(["--env", $"SL_EMULATOR_ADDRESS={invokeAddress}", "--env", $"SL_EMULATOR_RUNTIME_API_ADDRESS={runtimeApiAddress}"]);
        }
        else
        {
            arguments.AddRange(["--entrypoint", EmulatorCommandLine.EmulatorPath]);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            arguments.AddRange(["--env", $"{key}={value}"]);
        }
        arguments.AddRange(extraRunArguments ?? []);
        arguments.Add(image);
        if (addressing == EmulatorAddressing.Environment)
        {
            arguments.AddRange(command ?? []);
        }
        else
        {
            var handler = command?.ToList() ?? await ImageCommandAsync(image);
            arguments.AddRange(EmulatorCommandLine.Arguments(invokeAddress, runtimeApiAddress, handler));
        }
        (await DockerCli.RunAsync(arguments)).EnsureSuccess($"docker run {image}");
        await container.WaitUntilListeningAsync(TimeSpan.FromSeconds(30));
        return container;
    }

    public async Task<InvokeResult> InvokeAsync(string payload, TimeSpan? timeout = null)
    {
        Interlocked.Increment(ref _invocations);
        using var request = new HttpRequestMessage(
            HttpMethod.Post,
            $"http://127.0.0.1:{InvokePort}/2015-03-31/functions/function/invocations")
        {
            Content = new StringContent(payload, Encoding.UTF8, "application/json"),
        };
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var stopwatch = Stopwatch.StartNew();
        using var response = await Http.SendAsync(request, cts.Token);
        var body = await response.Content.ReadAsStringAsync(cts.Token);
        stopwatch.Stop();
        var functionError = response.Headers.TryGetValues("X-Amz-Function-Error", out var values) ? values.FirstOrDefault() : null;
        return new InvokeResult((int)response.StatusCode, body, functionError, stopwatch.Elapsed);
    }

    /// <summary>
    /// docker stop: SIGTERM to the emulator (PID 1), SIGKILL after the grace period. First, unless
    /// <paramref name="whenIdle"/> is false, waits (up to <see cref="IdleWait"/>) until the emulator has
    /// reported every invocation made through <see cref="InvokeAsync"/>: Lambda shuts down an idle
    /// environment, not one whose extensions still work on an invocation after its response (the agent's
    /// post-runtime flush). A caller has its answer before that work ends, and a stop sent at once would
    /// SIGTERM the runtime in the middle of it, which only a function timeout does on Lambda.
    /// </summary>
    public async Task StopAsync(int graceSeconds = 10, bool whenIdle = true)
    {
        if (whenIdle && Volatile.Read(ref _invocations) is > 0 and var invoked)
        {
            await WaitForLogAsync(logs => CountReports(logs) >= invoked, IdleWait);
        }
        (await DockerCli.RunAsync(["stop", "--time", graceSeconds.ToString(), Name])).EnsureSuccess($"docker stop {Name}");
    }

    /// <summary>How long <see cref="StopAsync"/> waits for the last invocation's REPORT (the agent's post-runtime budget is 5 s at most in the tests).</summary>
    public static readonly TimeSpan IdleWait = TimeSpan.FromSeconds(15);

    private static int CountReports(string logs)
    {
        var count = 0;
        for (var at = logs.IndexOf("REPORT RequestId:", StringComparison.Ordinal); at >= 0; at = logs.IndexOf("REPORT RequestId:", at + 1, StringComparison.Ordinal))
        {
            // INIT_REPORT lines are not invocations.
            if (at == 0 || logs[at - 1] == '\n')
            {
                count++;
            }
        }
        return count;
    }

    public async Task<string> LogsAsync()
    {
        var result = await DockerCli.RunAsync(["logs", Name]);
        return result.Output;
    }

    /// <summary>Polls the container's log until it satisfies a condition; returns the log either way.</summary>
    public async Task<string> WaitForLogAsync(Func<string, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var logs = await LogsAsync();
            if (condition(logs) || DateTime.UtcNow > deadline)
            {
                return logs;
            }
            await Task.Delay(100);
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        var result = await DockerCli.RunAsync(["wait", Name], timeout);
        return int.Parse(result.EnsureSuccess($"docker wait {Name}").StdOut.Trim());
    }

    /// <summary>The image's CMD: with the entrypoint replaced, docker would drop it.</summary>
    private static async Task<List<string>> ImageCommandAsync(string image) =>
        JsonSerializer.Deserialize<List<string>>(await DockerCli.InspectAsync(image, "{{json .Config.Cmd}}")) ?? [];

    public async ValueTask DisposeAsync() => await DockerCli.RemoveContainerAsync(Name);

    private async Task WaitUntilListeningAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", InvokePort);
                return;
            }
            catch (SocketException)
            {
                var state = await DockerCli.InspectAsync(Name, "{{.State.Status}}");
                if (state is "exited" or "dead")
                {
                    throw new InvalidOperationException($"container {Name} exited before listening:\n{await LogsAsync()}");
                }
                await Task.Delay(50);
            }
        }
        throw new TimeoutException($"container {Name} did not listen on {InvokePort} within {timeout}:\n{await LogsAsync()}");
    }
}
