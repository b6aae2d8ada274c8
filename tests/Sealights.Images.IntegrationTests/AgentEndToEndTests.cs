using System.Diagnostics;
using Sealights.Images.IntegrationTests.Infrastructure;
using Sealights.Images.Testing;
using Xunit.Abstractions;
using static Sealights.Images.Testing.SampleCalls;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// The agent in the coverage-ready image, under the emulator, with the sample function: what it
/// reports, and that no fault of the agent ever reaches the function.
/// </summary>
[Collection(CoverageCollection.Name)]
public sealed class AgentEndToEndTests(CoverageFixture images, ITestOutputHelper output) : IDisposable
{
    private const string HitsFile = "/sl-out/hits.jsonl";
    private const string EchoAnswer = """{"action":"echo","message":"covered","length":7}""";
    private const string QuoteAnswer =
        """{"currency":"USD","lines":[{"sku":"A","qty":2,"unitPrice":5.00,"lineTotal":10.00}],"subtotal":10.00,"discounts":[{"code":"TEN","amount":1.00}],"shipping":4.99,"total":13.99}""";

    private readonly string _outputDirectory = Directory.CreateTempSubdirectory("sl-agent-out-").FullName;
    private readonly string _token = SealightsTokens.Create();

    public void Dispose() => Directory.Delete(_outputDirectory, recursive: true);

    private string[] Mount => ["--volume", $"{_outputDirectory}:/sl-out"];

    [Fact]
    public async Task The_hits_are_exactly_the_methods_the_two_inputs_reach()
    {
        var started = DateTimeOffset.UtcNow;
        await using var container = await LambdaContainer.StartAsync(
            images.SampleImage,
            new Dictionary<string, string> { ["SL_TOKEN"] = _token, ["SL_DEBUG_HITS_FILE"] = HitsFile },
            Mount);

        var beforeEcho = DateTimeOffset.UtcNow;
        var echo = await container.InvokeAsync(Echo);
        var afterEcho = DateTimeOffset.UtcNow;
        var quote = await container.InvokeAsync(Quote);
        await container.StopAsync();
        var stopped = DateTimeOffset.UtcNow;
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Equal(EchoAnswer, echo.Body);
        Assert.Equal(QuoteAnswer, quote.Body);
        var hits = ReadHits();
        var ids = hits.Keys.ToHashSet();
        output.WriteLine(string.Join('\n', ids.Order()));
        string[] reached =
        [
            "SampleFunction|SampleFunction.Function|Handle(System.IO.Stream)",
            "SampleFunction|SampleFunction.Function|Echo(System.String)",
            "SampleFunction|SampleFunction.PricingEngine|Price(System.Collections.Generic.IReadOnlyList<SampleFunction.LineItem>,System.String)",
            "SampleFunction|SampleFunction.DiscountRules|Apply(System.Decimal,System.Int32,System.String)",
            "SampleFunction|SampleFunction.PriceCatalog|TryGetPrice(System.String,System.Decimal&)",
        ];
        Assert.All(reached, id => Assert.Contains(id, ids));
        string[] neverReached = ["|Fail()", "|Info()", "|Wait(", "SampleFunction.OrderValidationException|", "SampleFunction.ClientError|"];
        Assert.All(neverReached, fragment => Assert.DoesNotContain(ids, id => id.Contains(fragment, StringComparison.Ordinal)));
        Assert.All(ids, id => Assert.StartsWith("SampleFunction|", id));
        // Stamped with when the method ran (event time), not when the agent read it.
        var echoSeen = hits["SampleFunction|SampleFunction.Function|Echo(System.String)"];
        Assert.InRange(echoSeen, beforeEcho.AddMilliseconds(-50), afterEcho.AddMilliseconds(50));
        Assert.All(hits.Values, seen => Assert.InRange(seen, started.AddSeconds(-1), stopped));
        Assert.DoesNotContain(_token, logs);
    }

    [Theory]
    [MemberData(nameof(AgentFaults.All), MemberType = typeof(AgentFaults))]
    public async Task A_faulty_agent_never_reaches_the_function(string fault)
    {
        var environment = new Dictionary<string, string> { ["SL_TOKEN"] = _token, ["SL_DEBUG_HITS_FILE"] = HitsFile };
        var (image, expectedLog) = await AgentFaults.ArrangeAsync(fault, images.SampleImage, environment);
        await using var container = await LambdaContainer.StartAsync(image, environment, Mount);

        foreach (var (payload, answer) in new[] { (Echo, EchoAnswer), (Quote, QuoteAnswer), (Echo, EchoAnswer) })
        {
            var result = await container.InvokeAsync(payload, TimeSpan.FromSeconds(20));
            Assert.Null(result.FunctionError);
            Assert.Equal(answer, result.Body);
        }
        // The exec wrapper waited for the agent's verdict (the launcher registers before the agent
        // has read its configuration): a runtime that nobody will trace runs as without the image.
        var runtimeEnvironment = await RuntimeEnvironmentAsync(container.Name);
        Assert.Contains("AWS_LAMBDA_RUNTIME_API=", runtimeEnvironment);
        if (fault != "killed before the runtime starts")
        {
            Assert.DoesNotContain("DOTNET_DiagnosticPorts", runtimeEnvironment);
            Assert.DoesNotContain("DOTNET_JitNoInline", runtimeEnvironment);
        }
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Contains(expectedLog, logs);
        var reports = ReportLine.ParseAll(logs);
        Assert.Equal(3, reports.Count);
        output.WriteLine($"{fault}: init {reports[0].InitDurationMs:0.0} ms");
        // A runtime suspended for an absent agent would never start, and says so after 5 s: its
        // line, not a limit on the init's duration, is what must not appear.
        Assert.True(reports[0].InitDurationMs > 0);
        Assert.DoesNotContain("ResumeStartup", logs);
        Assert.DoesNotContain(_token, logs);
    }

    [Fact]
    public async Task The_runtime_waits_for_a_slow_agents_verdict_and_is_traced()
    {
        // The launcher registers at once, so Lambda starts the runtime while this agent still sleeps.
        await using var container = await StartWithAgentScriptAsync("sleep 0.4\nexec /opt/sealights/bin/sealights-lambda-agent \"$@\"");

        Assert.Equal(EchoAnswer, (await container.InvokeAsync(Echo)).Body);
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Contains("SampleFunction|SampleFunction.Function|Echo(System.String)", ReadHits().Keys);
        // The runtime waited for the agent's 0.4 s (a lower bound: load only adds to it).
        Assert.True(ReportLine.ParseAll(logs)[0].InitDurationMs >= 400, "the runtime did not wait for the agent's verdict");
        Assert.DoesNotContain("did not start within", logs);
    }

    [Fact]
    public async Task An_agent_slower_than_the_verdict_wait_leaves_the_runtime_untraced_and_says_so()
    {
        // Never decides; exits after 1.5 s, when the launcher takes over the registration.
        await using var container = await StartWithAgentScriptAsync("sleep 1.5\nexit 70", new() { ["SL_AGENT_VERDICT_WAIT_MS"] = "200" });

        for (var i = 0; i < 2; i++)
        {
            var result = await container.InvokeAsync(Echo, TimeSpan.FromSeconds(20));
            Assert.Null(result.FunctionError);
            Assert.Equal(EchoAnswer, result.Body);
        }
        var runtimeEnvironment = await RuntimeEnvironmentAsync(container.Name);
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Contains("[sealights-agent] the agent did not start within 200 ms: this runtime runs without coverage", logs);
        Assert.Contains("agent stopped (exit status 70): the function continues without coverage", logs);
        Assert.Contains("AWS_LAMBDA_RUNTIME_API=", runtimeEnvironment);
        Assert.DoesNotContain("DOTNET_DiagnosticPorts", runtimeEnvironment);
        Assert.Equal(2, ReportLine.ParseAll(logs).Count);
    }

    [Fact]
    public async Task An_agent_that_starts_after_the_wrapper_gave_up_leaves_the_one_line_to_the_wrapper()
    {
        // The wrapper waits 100 ms; this agent decides "on" after ~600 ms and listens in vain.
        await using var container = await StartWithAgentScriptAsync(
            "sleep 0.6\nexec /opt/sealights/bin/sealights-lambda-agent \"$@\"",
            new() { ["SL_AGENT_VERDICT_WAIT_MS"] = "100", ["SL_LOG_LEVEL"] = "debug" });

        var logs = await InvokeTwiceAcrossTheConnectionLimitAsync(container);

        Assert.Single(UntracedLines(logs));
        Assert.Contains("[sealights-agent] the agent did not start within 100 ms: this runtime runs without coverage", logs);
        // The agent did look (debug), and left the saying to the wrapper.
        Assert.Contains("the runtime runs untraced, as the exec wrapper said: the agent did not start within 100 ms", logs);
        Assert.Contains("collected 0 application methods from 0 runtime process(es)", logs);
    }

    [Fact]
    public async Task A_runtime_that_never_connects_is_said_once_with_its_reason()
    {
        await using var container = await LambdaContainer.StartAsync(
            images.SampleImage,
            new Dictionary<string, string>
            {
                ["SL_TOKEN"] = _token,
                ["SL_DEBUG_HITS_FILE"] = HitsFile,
                ["DOTNET_EnableDiagnostics"] = "0",
                // The wrapper waits for the agent however busy the machine is: the line under test is the agent's.
                ["SL_AGENT_VERDICT_WAIT_MS"] = "20000",
            },
            Mount);

        var logs = await InvokeTwiceAcrossTheConnectionLimitAsync(container);

        var line = Assert.Single(UntracedLines(logs));
        Assert.Contains(
            "the function's runtime did not connect to the agent by its first invocation: this environment runs without coverage "
            + "(DOTNET_EnableDiagnostics=0 is set on the function and turns the runtime's diagnostic port off; remove it to get coverage)",
            line);
    }

    [Fact]
    public async Task A_normal_stop_claims_no_loss()
    {
        // The runtime's stream is cut when it exits after the pre-SIGTERM flush: that loses nothing.
        await using var container = await LambdaContainer.StartAsync(
            images.SampleImage,
            new Dictionary<string, string> { ["SL_TOKEN"] = _token, ["SL_DEBUG_HITS_FILE"] = HitsFile },
            Mount);
        Assert.Equal(EchoAnswer, (await container.InvokeAsync(Echo)).Body);
        Assert.Equal(QuoteAnswer, (await container.InvokeAsync(Quote)).Body);
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Matches(@"collected [1-9]\d* application methods from 1 runtime process\(es\)", logs);
        Assert.Contains("SampleFunction|SampleFunction.PricingEngine|Price(System.Collections.Generic.IReadOnlyList<SampleFunction.LineItem>,System.String)", ReadHits().Keys);
        Assert.DoesNotContain("lost", logs.Replace("0 events lost", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("abruptly", logs);
    }

    public static TheoryData<string, string> FlushPolicies => new()
    {
        // The file alone is flushed after every response (local mode's freshness), no setting named.
        { "debug hits file only", "hits are flushed right after every response (Telemetry API)" },
        { "SL_TELEMETRY_API=false", "hits are flushed at the next INVOKE and at SHUTDOWN (SL_TELEMETRY_API=false)" },
    };

    [Theory]
    [MemberData(nameof(FlushPolicies))]
    public async Task The_flush_policy_line_names_a_setting_only_when_it_was_set(string configuration, string expected)
    {
        var environment = new Dictionary<string, string> { ["SL_TOKEN"] = _token, ["SL_DEBUG_HITS_FILE"] = HitsFile };
        if (configuration == "SL_TELEMETRY_API=false")
        {
            // Delivery on (nothing listens there; this test reads the agent's start line only).
            environment["SL_BUILD_SESSION_ID"] = "policy-bsid";
            environment["SL_TELEMETRY_API"] = "false";
        }
        await using var container = await LambdaContainer.StartAsync(images.SampleImage, environment, Mount);
        Assert.Equal(EchoAnswer, (await container.InvokeAsync(Echo)).Body);
        await container.StopAsync(graceSeconds: 3);
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        var registered = Assert.Single(logs.Split('\n'), l => l.Contains("registered as sealights-agent", StringComparison.Ordinal));
        Assert.EndsWith(expected, registered.TrimEnd());
        if (configuration != "SL_TELEMETRY_API=false")
        {
            Assert.DoesNotContain("SL_TELEMETRY_API", logs);
        }
    }

    [Fact]
    public async Task A_functions_own_exec_wrapper_is_chained_and_coverage_still_works()
    {
        var image = await ImageBuilder.BuildAsync(
            images.SampleImage,
            [new ImageFile("/var/task/user-wrapper.sh", "#!/bin/bash\necho \"user wrapper argv: $*\"\nexec \"$@\"\n", Executable: true)]);
        await using var container = await LambdaContainer.StartAsync(
            image,
            new Dictionary<string, string>
            {
                ["SL_TOKEN"] = _token,
                ["SL_DEBUG_HITS_FILE"] = HitsFile,
                ["AWS_LAMBDA_EXEC_WRAPPER"] = "/var/task/user-wrapper.sh",
            },
            Mount);

        Assert.Equal(EchoAnswer, (await container.InvokeAsync(Echo)).Body);
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Contains("user wrapper argv: /var/lang/bin/dotnet exec --depsfile /var/task/SampleFunction.deps.json", logs);
        Assert.Contains("SampleFunction|SampleFunction.Function|Echo(System.String)", ReadHits().Keys);
    }

    [Fact]
    public async Task Without_a_token_a_functions_own_exec_wrapper_still_runs_in_place_of_ours()
    {
        // Inert, the entrypoint installs the function's wrapper itself: ours would only exec the runtime.
        var image = await ImageBuilder.BuildAsync(
            images.SampleImage,
            [new ImageFile("/var/task/user-wrapper.sh", "#!/bin/bash\necho \"user wrapper argv: $* (AWS_LAMBDA_EXEC_WRAPPER=$AWS_LAMBDA_EXEC_WRAPPER)\"\nexec \"$@\"\n", Executable: true)]);
        await using var container = await LambdaContainer.StartAsync(
            image,
            new Dictionary<string, string> { ["AWS_LAMBDA_EXEC_WRAPPER"] = "/var/task/user-wrapper.sh" },
            Mount);

        Assert.Equal(EchoAnswer, (await container.InvokeAsync(Echo)).Body);
        var runtimeEnvironment = await RuntimeEnvironmentAsync(container.Name);
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Contains("user wrapper argv: /var/lang/bin/dotnet exec --depsfile /var/task/SampleFunction.deps.json", logs);
        Assert.Contains("(AWS_LAMBDA_EXEC_WRAPPER=/var/task/user-wrapper.sh)", logs);
        Assert.Contains("inactive (no token: set SL_TOKEN or SL_TOKEN_FILE on the function)", logs);
        Assert.DoesNotContain("DOTNET_DiagnosticPorts", runtimeEnvironment);
    }

    [Fact]
    public async Task An_agent_killed_mid_invocation_costs_coverage_only()
    {
        await using var container = await LambdaContainer.StartAsync(
            images.SampleImage,
            new Dictionary<string, string> { ["SL_TOKEN"] = _token, ["SL_DEBUG_HITS_FILE"] = HitsFile },
            Mount);
        Assert.Equal(EchoAnswer, (await container.InvokeAsync(Echo)).Body);

        var slow = container.InvokeAsync("""{"action":"wait","ms":2000}""");
        // Mid-invocation, by events: the second invocation has started (its START line) and has
        // not answered yet once the agent is dead.
        await container.WaitForLogAsync(l => l.Split("START RequestId:").Length - 1 >= 2, TimeSpan.FromSeconds(15));
        var kill = await DockerCli.RunAsync(
            ["exec", container.Name, "bash", "-c",
             "for p in /proc/[0-9]*; do grep -qa sealights-lambda-agent $p/cmdline 2>/dev/null && kill -9 ${p#/proc/} && echo killed ${p#/proc/}; done"]);
        output.WriteLine(kill.Output);
        Assert.Contains("killed", kill.StdOut);
        Assert.False(slow.IsCompleted, "the invocation had answered before the agent was killed: not mid-invocation");
        var stopwatch = Stopwatch.StartNew();
        Assert.Equal("""{"action":"wait","ms":2000}""", (await slow).Body);

        for (var i = 0; i < 3; i++)
        {
            var result = await container.InvokeAsync(Quote, TimeSpan.FromSeconds(20));
            Assert.Null(result.FunctionError);
            Assert.Equal(QuoteAnswer, result.Body);
        }
        output.WriteLine($"after the kill: {stopwatch.ElapsedMilliseconds} ms for the slow answer and three invocations");
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);
        Assert.Contains("agent stopped (exit status 137): the function continues without coverage", logs);
        Assert.DoesNotContain("Extension.Crash", logs);
        Assert.DoesNotContain(_token, logs);
    }

    /// <summary>
    /// The sample function with a token and the debug hits file, its agent started through a
    /// bash script (given its arguments and standard input as the launcher passes them).
    /// </summary>
    private async Task<LambdaContainer> StartWithAgentScriptAsync(string script, Dictionary<string, string>? settings = null)
    {
        const string Path = "/var/task/agent-script.sh";
        var image = await ImageBuilder.BuildAsync(images.SampleImage, [new ImageFile(Path, $"#!/bin/bash\n{script}\n", Executable: true)]);
        var environment = new Dictionary<string, string>(settings ?? []) { ["SL_TOKEN"] = _token, ["SL_DEBUG_HITS_FILE"] = HitsFile, ["SL_AGENT_BINARY"] = Path };
        return await LambdaContainer.StartAsync(image, environment, Mount);
    }

    /// <summary>
    /// Two invocations with the agent's wait for a first connection (2 s after the first INVOKE)
    /// between them, then a stop; the container's log. Between invocations the environment is
    /// frozen, so the agent's check runs when the second one thaws it.
    /// </summary>
    private async Task<string> InvokeTwiceAcrossTheConnectionLimitAsync(LambdaContainer container)
    {
        Assert.Equal(EchoAnswer, (await container.InvokeAsync(Echo, TimeSpan.FromSeconds(20))).Body);
        await Task.Delay(2500);
        Assert.Equal(EchoAnswer, (await container.InvokeAsync(Echo, TimeSpan.FromSeconds(20))).Body);
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);
        return logs;
    }

    /// <summary>Log lines that say a runtime runs untraced (the wrapper's or the agent's).</summary>
    private static List<string> UntracedLines(string logs) =>
        [.. logs.Split('\n').Where(l => l.Contains("without coverage", StringComparison.Ordinal) || l.Contains("did not connect", StringComparison.Ordinal))];

    /// <summary>The environment of the function's .NET runtime process (the one whose command is /var/lang/bin/dotnet), one variable per line.</summary>
    private static async Task<string> RuntimeEnvironmentAsync(string container) =>
        (await DockerCli.RunAsync(
            ["exec", container, "bash", "-c",
             "for p in /proc/[0-9]*; do [ \"$(head -c 20 $p/cmdline 2>/dev/null)\" = /var/lang/bin/dotnet ] && tr '\\0' '\\n' < $p/environ; done"])).StdOut;

    /// <summary>Method id → first seen, from the debug hits file (each method once).</summary>
    private Dictionary<string, DateTimeOffset> ReadHits() => DebugHitsFile.Read(Path.Combine(_outputDirectory, "hits.jsonl"));
}
