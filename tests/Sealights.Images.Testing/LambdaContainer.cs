using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;

namespace Sealights.Images.Testing;

/// <summary>An invocation's answer as the caller of the invoke endpoint sees it.</summary>
public sealed record InvokeResult(int StatusCode, string Body, string? FunctionError, TimeSpan Latency);

/// <summary>
/// A function image running in a container under a Lambda emulator (ours, or AWS's with
/// <see cref="EmulatorAddressing.Flags"/>), on the host network with its own invoke and Runtime API ports.
/// Testcontainers starts it, waits for the emulator, reads its logs and stops it; its owner removes it.
/// </summary>
public sealed class LambdaContainer : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(6) };
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    private readonly IContainer _container;

    private LambdaContainer(string name, int invokePort, int runtimeApiPort, IContainer container)
    {
        Name = name;
        InvokePort = invokePort;
        RuntimeApiPort = runtimeApiPort;
        _container = container;
    }

    public string Name { get; }

    public int InvokePort { get; }

    public int RuntimeApiPort { get; }

    /// <param name="extraRunArguments">docker run flags: --volume, --tmpfs, --platform, --cpus, --stop-timeout.</param>
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
        await TestcontainersSetup.EnsureAsync();
        var (name, invokePort, runtimeApiPort) = ($"sl-it-{Guid.NewGuid():N}"[..20], FreePorts.Next(), FreePorts.Next());
        var invokeAddress = $"127.0.0.1:{invokePort}";
        var runtimeApiAddress = $"127.0.0.1:{runtimeApiPort}";
        var builder = new ContainerBuilder(image)
            .WithName(name)
            .WithLabel(TestRun.LabelKey, TestRun.Id)
            // The loopback rule: no bridge, no port mapping (FreePorts keeps containers apart).
            .WithCreateParameterModifier(p => p.HostConfig!.NetworkMode = "host")
            .WithEnvironment(environment ?? new Dictionary<string, string>())
            // The emulator's contract (its README): this line once both APIs listen.
            .WithWaitStrategy(Wait.ForUnixContainer().UntilMessageIsLogged(
                $"Invoke endpoint: http://{Regex.Escape(invokeAddress)}/", w => w.WithInterval(Poll).WithTimeout(TimeSpan.FromSeconds(30))));
        if (addressing == EmulatorAddressing.Environment)
        {
            builder = builder.WithEnvironment("SL_EMULATOR_ADDRESS", invokeAddress).WithEnvironment("SL_EMULATOR_RUNTIME_API_ADDRESS", runtimeApiAddress);
            builder = command is null ? builder : builder.WithCommand([.. command]);
        }
        else
        {
            var handler = command?.ToList() ?? await ImageCommandAsync(image);
            builder = builder.WithEntrypoint(EmulatorCommandLine.EmulatorPath)
                .WithCommand([.. EmulatorCommandLine.Arguments(invokeAddress, runtimeApiAddress, handler)]);
        }
        var container = new LambdaContainer(name, invokePort, runtimeApiPort, RunArguments.Apply(builder, extraRunArguments ?? []).Build());
        try
        {
            // Throws with the container's logs if it exits first (ContainerNotRunningException) or times out.
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
    /// docker stop: SIGTERM to the emulator (PID 1), SIGKILL after the grace period (10 s, or the
    /// --stop-timeout given at the start).
    /// </summary>
    public Task StopAsync() => _container.StopAsync();

    /// <summary>stdout, then stderr (as docker logs prints them to a pipe).</summary>
    public async Task<string> LogsAsync()
    {
        var (stdout, stderr) = await _container.GetLogsAsync(timestampsEnabled: false);
        return stdout + stderr;
    }

    /// <summary>Polls the container's log until it satisfies a condition; returns the log either way.</summary>
    public async Task<string> WaitForLogAsync(Func<string, bool> condition, TimeSpan timeout)
    {
        var logs = "";
        try
        {
            await WaitStrategy.WaitUntilAsync(async () => condition(logs = await LogsAsync()), Poll, timeout);
        }
        catch (TimeoutException)
        {
            logs = await LogsAsync();
        }
        return logs;
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        return (int)await _container.GetExitCodeAsync(cts.Token);
    }

    /// <summary>The image's CMD: with the entrypoint replaced, docker would drop it.</summary>
    private static async Task<List<string>> ImageCommandAsync(string image) =>
        JsonSerializer.Deserialize<List<string>>(await DockerCli.InspectAsync(image, "{{json .Config.Cmd}}")) ?? [];

    /// <summary>Removes the container (killed if running); Testcontainers' dispose then finds nothing to stop.</summary>
    public async ValueTask DisposeAsync()
    {
        await TestcontainersSetup.RemoveContainerAsync(Name);
        await _container.DisposeAsync();
    }
}
