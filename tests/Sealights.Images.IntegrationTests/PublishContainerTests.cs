using System.Text.Json;
using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.IntegrationTests;

/// <summary>Pushes the coverage-ready base images (:10 on the .NET 10 stand-in, :8 on the .NET 8 one) once per run.</summary>
public sealed class PackageFixture : IAsyncLifetime
{
    public string PackageVersion { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await StandInImages.EnsureBaseImagesAsync();
        await CoverageImages.BuildAndPushAsync("10");
        await CoverageImages.BuildAndPushAsync("8");
        PackageVersion = await LambdaContainersPackage.PackAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>
/// `dotnet publish -t:PublishContainer` of a project that references the packed
/// Sealights.Lambda.Containers package, pushed to the local registry and run under the emulator.
/// </summary>
public sealed class PublishContainerTests(PackageFixture package, ITestOutputHelper output) : IClassFixture<PackageFixture>
{
    private const string Handler = "SampleFunction::SampleFunction.Function::Handle";
    private static readonly string Cli = RepositoryPaths.Combine("src", "Sealights.Images.Cli", "bin", "Release", "net8.0", "sl-images.dll");

    public static TheoryData<string, bool> Builds => new()
    {
        { "net10.0", false },
        { "net10.0", true },
        { "net8.0", false },
        { "net8.0", true },
    };

    [Theory]
    [MemberData(nameof(Builds))]
    public async Task A_function_publishes_into_a_covered_lambda_image(string framework, bool readyToRun)
    {
        var baseTag = framework == "net8.0" ? "8" : "10";
        var project = LambdaContainersPackage.CreateConsumer(package.PackageVersion, framework);
        var tag = $"{framework.Replace(".", "")}-{(readyToRun ? "r2r" : "jit")}";
        var (registry, repository) = StandInImages.ContainerTarget("it/publish-container");
        var arguments = new List<string>
        {
            "publish", project, "-t:PublishContainer", "-c", "Release", "--nologo",
            $"-p:ContainerRegistry={registry}", $"-p:ContainerRepository={repository}", $"-p:ContainerImageTag={tag}",
        };
        if (readyToRun)
        {
            arguments.AddRange(["-r", "linux-x64", "-p:PublishReadyToRun=true"]);
        }

        var publish = await ProcessRunner.RunAsync("dotnet", arguments, TimeSpan.FromMinutes(10));
        output.WriteLine(publish.Output);
        publish.EnsureSuccess("dotnet publish -t:PublishContainer");

        // lambda-container.json: the pushed image and the base it was built on, by digest.
        var outDir = Path.Combine(project, "bin", "Release", framework, readyToRun ? "linux-x64" : "");
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "lambda-container.json")));
        var image = $"{StandInImages.Registry}/it/publish-container:{tag}";
        var baseImage = $"{StandInImages.Registry}/sealights/lambda-dotnet:{baseTag}";
        Assert.Equal($"{StandInImages.Registry}/it/publish-container", manifest.RootElement.GetProperty("image").GetString());
        Assert.Equal(await DigestAsync(image), manifest.RootElement.GetProperty("digest").GetString());
        Assert.Equal(baseImage, manifest.RootElement.GetProperty("baseImage").GetString());
        Assert.Equal(await DigestAsync(baseImage), manifest.RootElement.GetProperty("baseDigest").GetString());
        Assert.True(File.Exists(Path.Combine(outDir, "sealights-buildmap.json")), "build map missing from the build output");

        // The image as Lambda would run it.
        (await DockerCli.RunAsync(["pull", "--quiet", image])).EnsureSuccess("docker pull");
        Assert.Equal("[\"/lambda-entrypoint.sh\"]", await DockerCli.InspectAsync(image, "{{json .Config.Entrypoint}}"));
        Assert.Equal($"[\"{Handler}\"]", await DockerCli.InspectAsync(image, "{{json .Config.Cmd}}"));
        Assert.Equal("/var/task", (await DockerCli.InspectAsync(image, "{{.Config.WorkingDir}}")).TrimEnd('/'));
        Assert.Equal(baseImage, await DockerCli.InspectAsync(image, "{{index .Config.Labels \"org.opencontainers.image.base.name\"}}"));
        Assert.Equal(await DigestAsync(baseImage), await DockerCli.InspectAsync(image, "{{index .Config.Labels \"org.opencontainers.image.base.digest\"}}"));
        var buildMap = await DockerCli.RunAsync(["run", "--rm", "--network", "host", "--entrypoint", "cat", image, "/var/task/sealights-buildmap.json"]);
        Assert.Contains("SampleFunction|SampleFunction.Function|Echo(System.String)", buildMap.EnsureSuccess("cat build map").StdOut);

        // It runs under the emulator, and the agent in its base reports what ran as footprints to
        // the stand-in Sealights backend (and, as ground truth, to the debug hits file).
        var hits = Directory.CreateTempSubdirectory("sl-pc-hits-").FullName;
        var backendPort = FreePorts.Next();
        var token = SealightsTokens.Create($"http://127.0.0.1:{backendPort}/api");
        await using var backend = await TestBackendProcess.StartAsync(hits, backendPort, token, "execution-pc", output.WriteLine);
        await using (var container = await LambdaContainer.StartAsync(
            image,
            new Dictionary<string, string>
            {
                ["SL_TOKEN"] = token,
                ["SL_BUILD_SESSION_ID"] = $"bsid-{tag}",
                ["SL_DEBUG_HITS_FILE"] = "/sl-out/hits.jsonl",
            },
            ["--volume", $"{hits}:/sl-out"]))
        {
            var echo = await container.InvokeAsync("""{"action":"echo","message":"published"}""");
            var info = await container.InvokeAsync("""{"action":"info"}""");
            await container.StopAsync();
            output.WriteLine(await container.LogsAsync());
            Assert.Equal("""{"action":"echo","message":"published","length":9}""", echo.Body);
            Assert.Contains($"\"runtimeVersion\":\"{baseTag}.", info.Body);
        }
        var recorded = File.ReadAllText(Path.Combine(hits, "hits.jsonl"));
        Assert.Contains("SampleFunction|SampleFunction.Function|Echo(System.String)", recorded);
        Assert.Contains("SampleFunction|SampleFunction.Function|Info()", recorded);
        Assert.DoesNotContain("SampleFunction|SampleFunction.Function|Fail()", recorded);
        var delivered = backend.DeliveredMethods();
        Assert.Contains("SampleFunction|SampleFunction.Function|Echo(System.String)", delivered);
        Assert.Contains("SampleFunction|SampleFunction.Function|Info()", delivered);
        // Published with probes: a method both invocations ran is reported by each of them.
        Assert.Equal(DebugHitsFile.ReadMethods(Path.Combine(hits, "hits.jsonl")).Order(), delivered.Distinct().Order());
        Assert.Contains("sealights-instrumented.json", (await DockerCli.RunAsync(["run", "--rm", "--network", "host", "--entrypoint", "ls", image, "/var/task"])).EnsureSuccess("ls /var/task").StdOut);
        Assert.All(backend.FootprintsRecords(), r => Assert.Contains($"/footprints/Functional%20Tests/bsid-{tag}/", (string?)r["rawTarget"]));
    }

    [Theory]
    [InlineData("10")]
    [InlineData("8")]
    public async Task The_coverage_ready_image_is_labelled_with_the_base_it_was_built_on(string tag)
    {
        var image = $"{StandInImages.Registry}/sealights/lambda-dotnet:{tag}";
        var labels = await LabelsAsync(image);

        Assert.Equal(StandInImages.Base(tag), labels["org.opencontainers.image.base.name"]);
        Assert.Equal(await DigestAsync(StandInImages.Base(tag)), labels["org.opencontainers.image.base.digest"]);
        Assert.Equal("0.1.0", labels["io.sealights.agent.version"]);
        Assert.Matches("^[0-9a-f]{40}$", labels["org.opencontainers.image.revision"]);
        // Its own description, not the stand-in base's "push it only to a local registry".
        Assert.StartsWith("AWS Lambda .NET base image with the Sealights coverage agent", labels["org.opencontainers.image.description"], StringComparison.Ordinal);
        // The versioned tag is the same image.
        Assert.Equal(await DigestAsync(image), await DigestAsync($"{image}-0.1.0"));
    }

    public static TheoryData<string, string, string, string> BadInputs => new()
    {
        { "malformed handler", "net10.0", "<LambdaHandler>SampleFunction: Function.Handle</LambdaHandler>", "SLC001" },
        { "unsupported framework", "net9.0", "", "SLC002" },
        { "several runtime identifiers", "net10.0", "<ContainerRuntimeIdentifiers>linux-x64;linux-arm64</ContainerRuntimeIdentifiers>", "SLC003" },
        { "no base image", "net10.0", "<SealightsBaseImageRegistry></SealightsBaseImageRegistry>", "SLC004" },
        { "token file missing", "net10.0", "<SealightsTokenFile>/nonexistent/sl-token</SealightsTokenFile><SealightsBuildSessionId>bsid-1</SealightsBuildSessionId>", "SLC008" },
        { "token but no build session", "net10.0", "<SealightsTokenFile>$(MSBuildProjectFullPath)</SealightsTokenFile><SealightsAppName>app</SealightsAppName>", "SLC008" },
        { "probes with EventSources off", "net10.0", "<EventSourceSupport>false</EventSourceSupport>", "SLC010" },
        { "arm64 with net8.0 (no .NET 8 arm64 image)", "net8.0", "<LambdaArchitecture>arm64</LambdaArchitecture>", "SLC005" },
        { "arm64 on an amd64-only base", "net10.0", "<LambdaArchitecture>arm64</LambdaArchitecture><ContainerBaseImage>$(SealightsBaseImageRegistry)/sealights/lambda-dotnet:8</ContainerBaseImage>", "SLC005" },
    };

    [Theory]
    [InlineData("linux/amd64", "10", "10-x86_64")]
    [InlineData("linux/arm64", "10-arm64", "10-arm64")]
    public async Task Each_platform_of_the_10_index_is_labelled_with_its_own_platforms_base(string platform, string standIn, string platformTag)
    {
        var image = $"{StandInImages.Registry}/sealights/lambda-dotnet:10";
        using var inspected = await InspectAsync(image, platform);
        var root = inspected.RootElement;
        var labels = root.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        output.WriteLine(root.ToString());

        // An index, whose entry for the platform is the per-platform image pushed before it.
        Assert.StartsWith("sha256:", root.GetProperty("indexDigest").GetString());
        Assert.NotEqual(root.GetProperty("indexDigest").GetString(), root.GetProperty("digest").GetString());
        Assert.Equal(await DigestAsync($"{StandInImages.Registry}/sealights/lambda-dotnet:{platformTag}", platform), root.GetProperty("digest").GetString());
        // Its base: the stand-in of that platform, by the registry's digest of that platform's manifest.
        Assert.Equal(StandInImages.Base(standIn), labels["org.opencontainers.image.base.name"]);
        Assert.Equal(await DigestAsync(StandInImages.Base(standIn), platform), labels["org.opencontainers.image.base.digest"]);
        Assert.Equal("0.1.0", labels["io.sealights.agent.version"]);
        // The versioned tag is the same index.
        using var versioned = await InspectAsync($"{image}-0.1.0", platform);
        Assert.Equal(root.GetProperty("indexDigest").GetString(), versioned.RootElement.GetProperty("indexDigest").GetString());
    }

    [Fact]
    public async Task The_10_index_holds_two_different_platform_images_and_8_stays_amd64_only()
    {
        var image = $"{StandInImages.Registry}/sealights/lambda-dotnet";
        using var amd64 = await InspectAsync($"{image}:10", "linux/amd64");
        using var arm64 = await InspectAsync($"{image}:10", "linux/arm64");

        Assert.Equal(amd64.RootElement.GetProperty("indexDigest").GetString(), arm64.RootElement.GetProperty("indexDigest").GetString());
        Assert.NotEqual(amd64.RootElement.GetProperty("digest").GetString(), arm64.RootElement.GetProperty("digest").GetString());
        Assert.NotEqual(amd64.RootElement.GetProperty("configDigest").GetString(), arm64.RootElement.GetProperty("configDigest").GetString());
        var eight = await ProcessRunner.RunAsync("dotnet", [Cli, "inspect", $"{image}:8", "--platform", "linux/arm64"], TimeSpan.FromMinutes(1));
        Assert.NotEqual(0, eight.ExitCode);
        Assert.Contains("is a single amd64 image, not linux/arm64", eight.StdErr);
    }

    [Fact]
    public async Task A_function_published_for_arm64_is_a_linux_arm64_image_on_the_arm64_manifest_and_runs()
    {
        var project = LambdaContainersPackage.CreateConsumer(package.PackageVersion, "net10.0", "<LambdaArchitecture>arm64</LambdaArchitecture>");
        var (registry, repository) = StandInImages.ContainerTarget("it/publish-container");
        var publish = await ProcessRunner.RunAsync(
            "dotnet",
            ["publish", project, "-t:PublishContainer", "-c", "Release", "--nologo",
             $"-p:ContainerRegistry={registry}", $"-p:ContainerRepository={repository}", "-p:ContainerImageTag=net100-arm64"],
            TimeSpan.FromMinutes(10));
        output.WriteLine(publish.Output);
        publish.EnsureSuccess("dotnet publish -t:PublishContainer (arm64)");

        var image = $"{StandInImages.Registry}/it/publish-container:net100-arm64";
        var baseImage = $"{StandInImages.Registry}/sealights/lambda-dotnet:10";
        var arm64Base = await DigestAsync(baseImage, "linux/arm64");
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(project, "bin", "Release", "net10.0", "lambda-container.json")));
        Assert.Equal("arm64", manifest.RootElement.GetProperty("architecture").GetString());
        Assert.Equal(await DigestAsync(image, "linux/arm64"), manifest.RootElement.GetProperty("digest").GetString());
        Assert.Equal(arm64Base, manifest.RootElement.GetProperty("baseDigest").GetString());

        (await DockerCli.RunAsync(["pull", "--quiet", "--platform", "linux/arm64", image])).EnsureSuccess("docker pull");
        Assert.Equal("linux/arm64", await DockerCli.InspectAsync(image, "{{.Os}}/{{.Architecture}}"));
        Assert.Equal(arm64Base, await DockerCli.InspectAsync(image, "{{index .Config.Labels \"org.opencontainers.image.base.digest\"}}"));

        // It runs (through QEMU), and the arm64 agent in its base sees what ran.
        var hits = Directory.CreateTempSubdirectory("sl-pc-arm64-hits-").FullName;
        await using (var container = await LambdaContainer.StartAsync(
            image,
            new Dictionary<string, string> { ["SL_TOKEN"] = SealightsTokens.Create(), ["SL_DEBUG_HITS_FILE"] = "/sl-out/hits.jsonl", ["SL_EMULATOR_INIT_TIMEOUT"] = "120", ["SL_AGENT_VERDICT_WAIT_MS"] = "60000" },
            ["--platform", "linux/arm64", "--volume", $"{hits}:/sl-out"]))
        {
            var echo = await container.InvokeAsync("""{"action":"echo","message":"published"}""", TimeSpan.FromMinutes(2));
            await container.StopAsync(graceSeconds: 30);
            output.WriteLine(await container.LogsAsync());
            Assert.Equal("""{"action":"echo","message":"published","length":9}""", echo.Body);
        }
        // The arm64 agent reads the arm64 runtime: the function's init and its invocation are in the
        // file. (The stop waits until the environment is idle, as Lambda's does: a stop sent in the
        // middle of the agent's post-runtime flush had lost the invocation's hits under QEMU.)
        var methods = DebugHitsFile.ReadMethods(Path.Combine(hits, "hits.jsonl"));
        Assert.Contains("SampleFunction|SampleFunction.Function|.ctor()", methods);
        Assert.Contains("SampleFunction|SampleFunction.Function|Echo(System.String)", methods);
    }


    [Fact]
    public async Task The_build_session_and_a_settings_file_given_as_properties_land_in_the_image_without_a_token_file()
    {
        var project = LambdaContainersPackage.CreateConsumer(
            package.PackageVersion, "net10.0", "<SealightsBuildSessionId>bsid-stamped</SealightsBuildSessionId><SealightsSettingsFile>sealights.settings.json</SealightsSettingsFile>");
        File.WriteAllText(Path.Combine(project, "sealights.settings.json"), "{\n  \"SL_LAB_ID\": \"lab-stamped\",\n  \"SL_TEST_STAGE\": \"Smoke; local\"\n}\n");
        var (registry, repository) = StandInImages.ContainerTarget("it/stamped");

        var publish = await ProcessRunner.RunAsync(
            "dotnet",
            ["publish", project, "-t:PublishContainer", "-c", "Release", "--nologo", $"-p:ContainerRegistry={registry}", $"-p:ContainerRepository={repository}", "-p:ContainerImageTag=stamped"],
            TimeSpan.FromMinutes(10));
        output.WriteLine(publish.Output);
        publish.EnsureSuccess("dotnet publish -t:PublishContainer");

        Assert.Contains("Sealights build session bsid-stamped: id in", publish.Output);
        var image = $"{StandInImages.Registry}/it/stamped:stamped";
        (await DockerCli.RunAsync(["pull", "--quiet", image])).EnsureSuccess("docker pull");
        var settings = (await DockerCli.RunAsync(["run", "--rm", "--network", "host", "--entrypoint", "cat", image, "/var/task/sealights.json"])).EnsureSuccess("cat sealights.json").StdOut;
        output.WriteLine(settings);
        using (var json = JsonDocument.Parse(settings))
        {
            Assert.Equal("bsid-stamped", json.RootElement.GetProperty("SL_BUILD_SESSION_ID").GetString());
            Assert.Equal("lab-stamped", json.RootElement.GetProperty("SL_LAB_ID").GetString());
            Assert.Equal("Smoke; local", json.RootElement.GetProperty("SL_TEST_STAGE").GetString());
        }
        Assert.Equal("bsid-stamped", await DockerCli.InspectAsync(image, "{{index .Config.Labels \"io.sealights.build-session-id\"}}"));
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(project, "bin", "Release", "net10.0", "lambda-container.json"))))
        {
            Assert.Equal("bsid-stamped", manifest.RootElement.GetProperty("buildSessionId").GetString());
        }
        Assert.DoesNotContain("SL_BUILD_SESSION_ID", await DockerCli.InspectAsync(image, "{{json .Config.Env}}"));

        // The agent takes both from the file: the function gets only its token.
        var scratch = Directory.CreateTempSubdirectory("sl-pc-stamped-").FullName;
        var backendPort = FreePorts.Next();
        var token = SealightsTokens.Create($"http://127.0.0.1:{backendPort}/api");
        await using var backend = await TestBackendProcess.StartAsync(scratch, backendPort, token, "execution-stamped", output.WriteLine);
        string logs;
        await using (var container = await LambdaContainer.StartAsync(image, new Dictionary<string, string> { ["SL_TOKEN"] = token, ["SL_FLUSH_INTERVAL_SECONDS"] = "0" }))
        {
            Assert.Null((await container.InvokeAsync("""{"action":"echo","message":"stamped"}""")).FunctionError);
            await container.StopAsync();
            logs = await container.LogsAsync();
            output.WriteLine(logs);
        }
        Assert.Contains("bsid bsid-stamped, lab lab-stamped, test stage Smoke; local", logs);
        Assert.Contains("SampleFunction|SampleFunction.Function|Echo(System.String)", backend.DeliveredMethods());
        Assert.NotEmpty(backend.FootprintsRecords());
        Assert.All(backend.FootprintsRecords(), r => Assert.Contains("/bsid-stamped/", (string?)r["rawTarget"]));
    }

    public static TheoryData<string, string> TokenBoundForTheImage => new()
    {
        { "the token in the image's environment", "</PropertyGroup><ItemGroup><ContainerEnvironmentVariable Include=\"SL_TOKEN\" Value=\"{jwt}\" /></ItemGroup><PropertyGroup>" },
        { "a token in another variable", "</PropertyGroup><ItemGroup><ContainerEnvironmentVariable Include=\"MY_SECRET\" Value=\"{jwt}\" /></ItemGroup><PropertyGroup>" },
        { "a token in a label", "</PropertyGroup><ItemGroup><ContainerLabel Include=\"sealights\" Value=\"{jwt}\" /></ItemGroup><PropertyGroup>" },
        { "the token in the settings file", "<SealightsSettingsFile>sealights.settings.json</SealightsSettingsFile>" },
    };

    [Theory]
    [MemberData(nameof(TokenBoundForTheImage))]
    public async Task A_token_bound_for_the_image_fails_the_publish_before_the_image_is_built(string name, string properties)
    {
        var token = SealightsTokens.Create();
        var project = LambdaContainersPackage.CreateConsumer(package.PackageVersion, "net10.0", properties.Replace("{jwt}", token, StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(project, "sealights.settings.json"), $"{{ \"SL_LAB_ID\": \"lab\", \"SL_TOKEN\": \"{token}\" }}");

        var (registry, repository) = StandInImages.ContainerTarget("it/token-bound");
        var publish = await ProcessRunner.RunAsync(
            "dotnet",
            ["publish", project, "-t:PublishContainer", "-c", "Release", "--nologo", $"-p:ContainerRegistry={registry}", $"-p:ContainerRepository={repository}"],
            TimeSpan.FromMinutes(5));
        output.WriteLine($"{name}:\n{publish.Output}");

        Assert.NotEqual(0, publish.ExitCode);
        Assert.Contains("error SLC013:", publish.Output);
        Assert.Contains("token", publish.Output.Split('\n').First(l => l.Contains("error SLC013:", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.DoesNotContain(token, publish.Output);
        Assert.DoesNotContain("Building image", publish.Output);
    }

    public static TheoryData<string, string> UnreachableBackend => new()
    {
        { "<SealightsAppName>app</SealightsAppName><SealightsBranchName>main</SealightsBranchName><SealightsBuildName>1</SealightsBuildName>", "Sealights build session not created (sl-images exit code 3): sl-images config: no build session created: cannot reach the Sealights backend" },
        { "<SealightsBuildSessionId>bsid-unreachable</SealightsBuildSessionId>", "Sealights build map not uploaded (sl-images exit code 3): sl-images scan: build map not uploaded: cannot reach the Sealights backend" },
    };

    [Theory]
    [MemberData(nameof(UnreachableBackend))]
    public async Task An_unreachable_Sealights_backend_fails_the_publish_with_one_clear_error(string properties, string message)
    {
        var tokenFile = Path.Combine(Directory.CreateTempSubdirectory("sl-pc-token-").FullName, "token");
        var token = SealightsTokens.Create($"http://127.0.0.1:{FreePorts.Next()}/api");
        File.WriteAllText(tokenFile, token);
        var project = LambdaContainersPackage.CreateConsumer(package.PackageVersion, "net10.0", $"<SealightsTokenFile>{tokenFile}</SealightsTokenFile>{properties}");

        var publish = await ProcessRunner.RunAsync(
            "dotnet",
            ["publish", project, "-t:PublishContainer", "-c", "Release", "--nologo", $"-p:ContainerRegistry={StandInImages.Registry}", "-p:ContainerRepository=it/unreachable"],
            TimeSpan.FromMinutes(5));
        output.WriteLine(publish.Output);

        Assert.NotEqual(0, publish.ExitCode);
        Assert.Contains($"error SLC009: {message}", publish.Output);
        Assert.DoesNotContain("error MSB", publish.Output);
        Assert.Single(publish.Output.Split('\n').Where(l => l.Contains(": error ", StringComparison.Ordinal)).Distinct());
        Assert.DoesNotContain(token, publish.Output);
        Assert.DoesNotContain("Building image", publish.Output);
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_fails_with_a_clear_error_code(string name, string framework, string properties, string code)
    {
        var project = LambdaContainersPackage.CreateConsumer(package.PackageVersion, framework, properties);

        var publish = await ProcessRunner.RunAsync(
            "dotnet",
            ["publish", project, "-t:PublishContainer", "-c", "Release", "--nologo", $"-p:ContainerRegistry={StandInImages.Registry}", "-p:ContainerRepository=it/bad-input"],
            TimeSpan.FromMinutes(5));
        output.WriteLine($"{name}:\n{publish.Output}");

        Assert.NotEqual(0, publish.ExitCode);
        Assert.Contains($"error {code}:", publish.Output);
        Assert.DoesNotContain("mcr.microsoft.com", publish.Output);
    }

    private static async Task<Dictionary<string, string>> LabelsAsync(string image)
    {
        var result = (await ProcessRunner.RunAsync("dotnet", [Cli, "inspect", image], TimeSpan.FromMinutes(1))).EnsureSuccess($"sl-images inspect {image}");
        using var json = JsonDocument.Parse(result.StdOut);
        return json.RootElement.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
    }

    private static async Task<string> DigestAsync(string image) =>
        (await ProcessRunner.RunAsync("dotnet", [Cli, "inspect", image, "--digest"], TimeSpan.FromMinutes(1))).EnsureSuccess($"sl-images inspect {image}").StdOut.Trim();

    private static async Task<string> DigestAsync(string image, string platform) =>
        (await ProcessRunner.RunAsync("dotnet", [Cli, "inspect", image, "--platform", platform, "--digest"], TimeSpan.FromMinutes(1)))
            .EnsureSuccess($"sl-images inspect {image} --platform {platform}").StdOut.Trim();

    private static async Task<JsonDocument> InspectAsync(string image, string platform) =>
        JsonDocument.Parse((await ProcessRunner.RunAsync("dotnet", [Cli, "inspect", image, "--platform", platform], TimeSpan.FromMinutes(1)))
            .EnsureSuccess($"sl-images inspect {image} --platform {platform}").StdOut);
}
