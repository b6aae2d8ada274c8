using Sealights.Images.IntegrationTests.Infrastructure;
using Sealights.Images.Testing;
using Xunit.Abstractions;
using static Sealights.Images.Testing.SampleCalls;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// Once per run: the coverage-ready image for linux/arm64 (the agent cross-compiled NativeAOT for
/// linux-arm64, on the 10-arm64 stand-in) and the sample function built on it.
/// </summary>
public sealed class Arm64Fixture : IAsyncLifetime
{
    public string CoverageImage { get; private set; } = "";

    public string SampleImage { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await StandInImages.EnsureBaseImagesAsync();
        CoverageImage = await CoverageImages.BuildAsync(StandInImages.Base("10-arm64"), architecture: "arm64");
        SampleImage = await StandInImages.BuildSampleAsync("net10.0", CoverageImage);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>
/// arm64 (Graviton) functions, run on this x86_64 machine through QEMU (scripts/prereqs.sh
/// registers it): the arm64 agent in the arm64 image reports what the function ran, and no fault of
/// it reaches the function. Under QEMU everything is several times slower: these tests assert
/// behaviour, never time (beyond generous limits), and few run, to keep CI short.
/// </summary>
[Collection(Arm64Collection.Name)]
public sealed class Arm64Tests(Arm64Fixture images, ITestOutputHelper output) : IDisposable
{
    private const string HitsFile = "/sl-out/hits.jsonl";
    private const string EchoAnswer = """{"action":"echo","message":"covered","length":7}""";
    private const string QuoteAnswer =
        """{"currency":"USD","lines":[{"sku":"A","qty":2,"unitPrice":5.00,"lineTotal":10.00}],"subtotal":10.00,"discounts":[{"code":"TEN","amount":1.00}],"shipping":4.99,"total":13.99}""";

    // Under QEMU a .NET runtime starts in seconds, not in a fraction of one: more than Lambda's
    // 10 s init limit on a loaded machine, so the emulator is given longer (SL_EMULATOR_INIT_TIMEOUT),
    // and the agent's start (seconds, not ms) more than the exec wrapper's 1 s verdict wait.
    private static readonly TimeSpan InvokeTimeout = TimeSpan.FromMinutes(2);
    private const string InitTimeoutSeconds = "120";
    private const string VerdictWaitMs = "60000";

    private readonly string _outputDirectory = Directory.CreateTempSubdirectory("sl-arm64-out-").FullName;

    private static readonly string[] Platform = ["--platform", "linux/arm64"];

    public void Dispose() => Directory.Delete(_outputDirectory, recursive: true);

    private string[] RunArguments => [.. Platform, "--volume", $"{_outputDirectory}:/sl-out"];

    [Fact]
    public async Task The_images_are_arm64_and_so_is_the_agent_in_them()
    {
        Assert.Equal("arm64", await DockerCli.InspectAsync(images.CoverageImage, "{{.Architecture}}"));
        Assert.Equal("arm64", await DockerCli.InspectAsync(StandInImages.Base("10-arm64"), "{{.Architecture}}"));
        // The machine the function sees, and the agent's ELF header (e_machine 183 = AArch64).
        var machine = await DockerCli.RunAsync(["run", "--rm", .. Platform, "--network", "host", "--entrypoint", "uname", images.CoverageImage, "-m"]);
        Assert.Equal("aarch64", machine.EnsureSuccess("uname -m").StdOut.Trim());
        var header = await DockerCli.RunAsync(
            ["run", "--rm", .. Platform, "--network", "host", "--entrypoint", "od", images.CoverageImage, "-An", "-tu2", "-j18", "-N2", "/opt/sealights/bin/sealights-lambda-agent"]);
        Assert.Equal("183", header.EnsureSuccess("od agent header").StdOut.Trim());
    }

    [Fact]
    public async Task The_sample_function_answers_and_its_footprints_carry_the_methods_its_payloads_run()
    {
        var backendPort = FreePorts.Next();
        var token = SealightsTokens.Create($"http://127.0.0.1:{backendPort}/api");
        await using var backend = await TestBackendProcess.StartAsync(_outputDirectory, backendPort, token, "execution-arm64", output.WriteLine);
        await using var container = await LambdaContainer.StartAsync(
            images.SampleImage,
            new Dictionary<string, string>
            {
                ["SL_TOKEN"] = token, ["SL_BUILD_SESSION_ID"] = "bsid-arm64", ["SL_DEBUG_HITS_FILE"] = HitsFile,
                ["SL_EMULATOR_INIT_TIMEOUT"] = InitTimeoutSeconds, ["SL_AGENT_VERDICT_WAIT_MS"] = VerdictWaitMs,
            },
            RunArguments);

        var echo = await container.InvokeAsync(Echo, InvokeTimeout);
        var quote = await container.InvokeAsync(Quote, InvokeTimeout);
        await container.StopAsync(graceSeconds: 30);
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Equal(EchoAnswer, echo.Body);
        Assert.Equal(QuoteAnswer, quote.Body);
        string[] reached =
        [
            "SampleFunction|SampleFunction.Function|Handle(System.IO.Stream)",
            EchoMethod,
            PriceMethod,
            "SampleFunction|SampleFunction.DiscountRules|Apply(System.Decimal,System.Int32,System.String)",
            "SampleFunction|SampleFunction.PriceCatalog|TryGetPrice(System.String,System.Decimal&)",
        ];
        string[] neverReached = ["|Fail()", "|Info()", "|Wait(", "SampleFunction.OrderValidationException|", "SampleFunction.ClientError|"];
        var hits = DebugHitsFile.ReadMethods(Path.Combine(_outputDirectory, "hits.jsonl")).ToHashSet();
        var delivered = backend.DeliveredMethods().ToHashSet();
        output.WriteLine("delivered: " + string.Join('\n', delivered.Order()));
        foreach (var methods in new[] { hits, delivered })
        {
            Assert.All(reached, id => Assert.Contains(id, methods));
            Assert.All(neverReached, fragment => Assert.DoesNotContain(methods, id => id.Contains(fragment, StringComparison.Ordinal)));
            Assert.All(methods, id => Assert.StartsWith("SampleFunction|", id));
        }
        // What the agent saw is what it delivered.
        Assert.Equal(hits.Order(), delivered.Order());
        Assert.All(backend.FootprintsRecords(), r => Assert.Contains("/footprints/Functional%20Tests/bsid-arm64/", (string?)r["rawTarget"]));
        Assert.DoesNotContain(token, logs);
    }

    [Theory]
    [MemberData(nameof(AgentFaults.All), MemberType = typeof(AgentFaults))]
    public async Task A_faulty_agent_never_reaches_the_function(string fault)
    {
        var token = SealightsTokens.Create();
        var environment = new Dictionary<string, string> { ["SL_TOKEN"] = token, ["SL_DEBUG_HITS_FILE"] = HitsFile, ["SL_EMULATOR_INIT_TIMEOUT"] = InitTimeoutSeconds, ["SL_AGENT_VERDICT_WAIT_MS"] = VerdictWaitMs };
        // Polled 30 s for the agent's "on": under QEMU it starts in seconds.
        var (image, expectedLog) = await AgentFaults.ArrangeAsync(fault, images.SampleImage, environment, statusPolls: 3000);
        await using var container = await LambdaContainer.StartAsync(image, environment, RunArguments);

        foreach (var (payload, answer) in new[] { (Echo, EchoAnswer), (Quote, QuoteAnswer) })
        {
            var result = await container.InvokeAsync(payload, InvokeTimeout);
            Assert.Null(result.FunctionError);
            Assert.Equal(answer, result.Body);
        }
        await container.StopAsync(graceSeconds: 30);
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Contains(expectedLog, logs);
        var reports = ReportLine.ParseAll(logs);
        Assert.Equal(2, reports.Count);
        output.WriteLine($"{fault}: init {reports[0].InitDurationMs:0.0} ms under QEMU (not a performance figure)");
        Assert.DoesNotContain(token, logs);
    }
}

// Alone: QEMU takes both cores while an arm64 runtime starts.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Arm64Collection : ICollectionFixture<Arm64Fixture>
{
    public const string Name = "arm64 image";
}
