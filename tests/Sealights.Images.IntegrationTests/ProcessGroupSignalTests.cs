using Sealights.Images.IntegrationTests.Infrastructure;
using Sealights.Images.Testing;
using Xunit.Abstractions;
using static Sealights.Images.Testing.SampleCalls;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// The stop as AWS's emulator does it: SIGTERM to the runtime's whole process group (the exec
/// wrapper and, unless it has a group of its own, the .NET runtime at the same moment), then
/// SHUTDOWN. The last invocation's methods must still reach the backend, although nothing
/// flushed them before the stop: without the Telemetry API (AWS's emulator has none) hits leave
/// the runtime only at the next INVOKE or in the wrapper's pre-SIGTERM flush.
/// </summary>
[Collection(CoverageCollection.Name)]
public sealed class ProcessGroupSignalTests(CoverageFixture images, ITestOutputHelper output) : IDisposable
{
    private const string Bsid = "bsid-group";
    private const string Execution = "execution-group";

    // What only the last invocation (Quote) runs.
    private static readonly string[] QuoteMethods =
    [
        "SampleFunction|SampleFunction.PricingEngine|Price(System.Collections.Generic.IReadOnlyList<SampleFunction.LineItem>,System.String)",
        "SampleFunction|SampleFunction.DiscountRules|Apply(System.Decimal,System.Int32,System.String)",
        "SampleFunction|SampleFunction.PriceCatalog|TryGetPrice(System.String,System.Decimal&)",
    ];

    private readonly ScenarioScratch _scratch = new("sl-group-");

    public void Dispose() => _scratch.Dispose();

    // Inside the container: the last invocation, and SIGTERM to the emulator (PID 1) the moment
    // its answer arrives, with nothing in between (docker stop from the host comes 50-100 ms later).
    private const string InvokeThenStop = """
        exec 3<>"/dev/tcp/127.0.0.1/$1"
        printf 'POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' "${#2}" "$2" >&3
        IFS= read -r status <&3
        printf '%s\n' "${status%$'\r'}"
        kill -TERM 1
        """;

    /// <summary>
    /// <paramref name="freeze"/> false: as AWS's emulator runs a function (it never freezes), with
    /// the SIGTERM right at the last answer, when the runtime has written out the least: before the
    /// fix this lost the last invocation's methods in 5 of 15 runs (0 of 14 after). True: our
    /// emulator's default, frozen after the last invocation until docker stop thaws it (no loss
    /// seen in 5 runs before the fix, but the runtime's stream was cut before the pre-SIGTERM
    /// flush every time).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_last_invocations_methods_reach_the_backend_when_SIGTERM_reaches_wrapper_and_runtime_together(bool freeze)
    {
        var token = SealightsTokens.Create($"http://127.0.0.1:{_scratch.BackendPort}/api");
        await using var backend = await TestBackendProcess.StartAsync(_scratch.Directory, _scratch.BackendPort, token, Execution, output.WriteLine);
        await backend.StatsAsync();
        var environment = new Dictionary<string, string>
        {
            ["SL_TOKEN"] = token,
            ["SL_BUILD_SESSION_ID"] = Bsid,
            ["SL_DEBUG_HITS_FILE"] = "/sl-out/hits.jsonl",
            // As under AWS's emulator: no Telemetry API, so no flush right after a response.
            ["SL_TELEMETRY_API"] = "false",
            ["SL_EMULATOR_SIGTERM_GROUP"] = "true",
            ["SL_EMULATOR_FREEZE"] = freeze ? "true" : "false",
        };
        await using var container = await LambdaContainer.StartAsync(images.SampleImage, environment, ["--volume", $"{_scratch.Directory}:/sl-out"]);

        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        if (freeze)
        {
            Assert.Equal(200, (await container.InvokeAsync(Quote)).StatusCode);
            await container.StopAsync();
        }
        else
        {
            var answer = (await DockerCli.RunAsync(["exec", container.Name, "bash", "-c", InvokeThenStop, "bash", container.InvokePort.ToString(), Quote]))
                .EnsureSuccess("docker exec (invoke, then SIGTERM)");
            Assert.StartsWith("HTTP/1.1 200", answer.StdOut);
            Assert.Equal(0, await container.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Contains("SIGTERM at shutdown to the runtime's process group", logs);
        var delivered = backend.DeliveredMethods();
        Assert.Contains(EchoMethod, delivered);
        Assert.All(QuoteMethods, method => Assert.Contains(method, delivered));
        Assert.Equal(DebugHitsFile.Read(Path.Combine(_scratch.Directory, "hits.jsonl")).Keys.Order(), delivered.Order());
        if (freeze)
        {
            // The runtime's stream ended in the agent's pre-SIGTERM flush, not cut by its exit
            // (before the fix it was cut every time). Not asserted right at the answer: there the
            // flush queues behind the rotation INVOKE started, and on a loaded machine both may
            // outlast the wrapper's 200 ms, as they may on a plain docker stop.
            Assert.DoesNotContain("went away mid-session", logs);
        }
    }
}
