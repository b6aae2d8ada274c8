using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;

namespace Sealights.Images.Testing;

/// <summary>An invocation's answer as the caller of the invoke endpoint sees it.</summary>
public sealed record InvokeResult(int StatusCode, string Body, string? FunctionError, TimeSpan Latency);

/// <summary>
/// A function image running in a container under a Lambda emulator (ours, or AWS's with
/// <see cref="EmulatorAddressing.Flags"/>), on the host network with its own invoke and Runtime API ports.
/// Testcontainers starts it, waits until it listens, reads its logs and removes it on dispose.
/// </summary>
public sealed class LambdaContainer : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(6) };
    private static readonly Lazy<Task<IDockerClient>> Engine = new(ConfigureTestcontainersAsync);

    private readonly IContainer _container;

    // Invocations asked for through InvokeAsync: StopAsync waits for as many REPORT lines.
    private int _invocations;

    private LambdaContainer(IContainer container, string name, int invokePort, int runtimeApiPort) =>
        (_container, Name, InvokePort, RuntimeApiPort) = (container, name, invokePort, runtimeApiPort);

    public string Name { get; }

    public int InvokePort { get; }

    public int RuntimeApiPort { get; }

    /// <param name="extraRunArguments">docker run flags: --volume, --tmpfs, --platform, --cpus.</param>
    /// <param name="command">The image's CMD (the handler) instead of its own.</param>
    /// <param name="addressing">How the emulator gets its addresses (flags: AWS's emulator or ours).</param>
    public static async Task<LambdaContainer> StartAsync(
        string image,
        IReadOnlyDictionary<string, string>? environment = null,
        IEnumerable<string>? extraRunArguments = null,
        IEnumerable<string>? command = null,
        EmulatorAddressing addressing = EmulatorAddressing.Environment)
    {
        await Engine.Value;
        var (name, invokePort, runtimeApiPort) = ($"sl-it-{Guid.NewGuid():N}"[..20], FreePorts.Next(), FreePorts.Next());
        var (invokeAddress, runtimeApiAddress) = ($"127.0.0.1:{invokePort}", $"127.0.0.1:{runtimeApiPort}");
        var builder = new ContainerBuilder(image)
            .WithName(name)
            .WithLabel(TestRun.LabelKey, TestRun.Id)
            // With Ryuk off, WithCleanUp(true) sets the empty session, whose dispose only stops; this one's removes.
            .WithLabel(ResourceReaper.ResourceReaperSessionLabel, ResourceReaper.DefaultSessionId.ToString("D"))
            // The loopback rule: the host network, no bridge, no port mapping (FreePorts keeps containers apart).
            .WithCreateParameterModifier(p => p.HostConfig!.NetworkMode = "host")
            .WithEnvironment(environment ?? new Dictionary<string, string>())
            // Until the invoke port listens (either emulator; Testcontainers' port waits need a mapping).
            // Exiting first fails the start with the container's logs.
            .WithWaitStrategy(Wait.ForUnixContainer().AddCustomWaitStrategy(
                new Listening(invokePort), w => w.WithInterval(TimeSpan.FromMilliseconds(50)).WithTimeout(TimeSpan.FromSeconds(30))));
        // An empty command keeps the image's CMD; with the entrypoint replaced the engine drops it, so it is read.
        builder = addressing == EmulatorAddressing.Environment
            ? builder.WithEnvironment("SL_EMULATOR_ADDRESS", invokeAddress).WithEnvironment("SL_EMULATOR_RUNTIME_API_ADDRESS", runtimeApiAddress).WithCommand([.. command ?? []])
            : builder.WithEntrypoint(EmulatorCommandLine.EmulatorPath).WithCommand(
                [.. EmulatorCommandLine.Arguments(invokeAddress, runtimeApiAddress, [.. command ?? (await (await Engine.Value).Images.InspectImageAsync(image)).Config?.Cmd ?? []])]);
        var container = new LambdaContainer(WithRunArguments(builder, extraRunArguments ?? []).Build(), name, invokePort, runtimeApiPort);
        try
        {
            await container._container.StartAsync();
        }
        catch
        {
            await container.DisposeAsync();
            throw;
        }
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
    /// <remarks>Not Testcontainers' stop: it sends no grace, the engine uses the one fixed at creation.</remarks>
    public async Task StopAsync(int graceSeconds = 10, bool whenIdle = true)
    {
        if (whenIdle && Volatile.Read(ref _invocations) is > 0 and var invoked)
        {
            await WaitForLogAsync(logs => LogLines.Of(logs).Count(l => l.StartsWith("REPORT RequestId:", StringComparison.Ordinal)) >= invoked, IdleWait);
        }
        await (await Engine.Value).Containers.StopContainerAsync(_container.Id, new ContainerStopParameters { WaitBeforeKillSeconds = (uint)graceSeconds });
    }

    /// <summary>How long <see cref="StopAsync"/> waits for the last invocation's REPORT (the agent's post-runtime budget is 5 s at most in the tests).</summary>
    public static readonly TimeSpan IdleWait = TimeSpan.FromSeconds(15);

    /// <summary>stdout, then stderr (as docker logs printed them to two pipes).</summary>
    public async Task<string> LogsAsync()
    {
        var (stdout, stderr) = await _container.GetLogsAsync(timestampsEnabled: false);
        return stdout + stderr;
    }

    /// <summary>Polls the container's log until it satisfies a condition; returns the log either way.</summary>
    public async Task<string> WaitForLogAsync(Func<string, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string logs;
        while (!condition(logs = await LogsAsync()) && DateTime.UtcNow <= deadline)
        {
            await Task.Delay(100);
        }
        return logs;
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        return (int)await _container.GetExitCodeAsync(cts.Token);
    }

    /// <summary>Removes the container at once (killed if it runs).</summary>
    public ValueTask DisposeAsync() => _container.DisposeAsync();

    /// <summary>The docker run flags the callers pass, as Testcontainers settings; any other flag is refused, not ignored.</summary>
    private static ContainerBuilder WithRunArguments(ContainerBuilder builder, IEnumerable<string> flags) => flags.Chunk(2).Aggregate(builder, (b, flag) => flag switch
    {
        ["--volume", var v] when v.Split(':', 2) is [var source, var target] => b.WithBindMount(source, target),
        ["--tmpfs", var v] when v.Split(':', 2) is [var path, var options] => b.WithCreateParameterModifier(p => (p.HostConfig!.Tmpfs ??= new Dictionary<string, string>())[path] = options),
        ["--platform", var v] => b.WithCreateParameterModifier(p => p.Platform = v),
        ["--cpus", var v] => b.WithCreateParameterModifier(p => p.HostConfig!.NanoCPUs = (long)(decimal.Parse(v, CultureInfo.InvariantCulture) * 1_000_000_000)),
        _ => throw new ArgumentException($"docker run {string.Join(' ', flag)}: not supported by LambdaContainer"),
    });

    private sealed class Listening(int port) : IWaitUntil
    {
        public async Task<bool> UntilAsync(IContainer container)
        {
            using var client = new TcpClient();
            return await client.ConnectAsync("127.0.0.1", port).ContinueWith(connect => connect.Exception is null);
        }
    }

    /// <summary>
    /// Before Testcontainers reads its settings: Ryuk off (its image is out of reach; owners remove their
    /// containers, the run's sweep the rest by label) and the engine's API version (no negotiation: 20.10 refuses 1.44).
    /// </summary>
    private static async Task<IDockerClient> ConfigureTestcontainersAsync()
    {
        Environment.SetEnvironmentVariable("DOCKER_API_VERSION", Environment.GetEnvironmentVariable("DOCKER_API_VERSION") is { Length: > 0 } given ? given
            : (await DockerCli.RunAsync(["version", "--format", "{{.Server.APIVersion}}"])).EnsureSuccess("docker version").StdOut.Trim());
        TestcontainersSettings.ResourceReaperEnabled = false;
        return TestcontainersSettings.OS.DockerEndpointAuthConfig.GetDockerClientBuilder().Build();
    }
}
