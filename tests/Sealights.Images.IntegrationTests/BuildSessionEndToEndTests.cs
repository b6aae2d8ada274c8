using System.Text.Json.Nodes;
using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// The build side end to end ("Ids registered", issue 14): <c>sl-images config</c> creates the
/// build session, <c>dotnet publish -t:PublishContainer</c> with the package uploads the build map
/// and puts the bsid into the image, the function runs in the emulator with nothing but the token,
/// and every id the agent reports is one the uploaded build map registered.
/// </summary>
public sealed class BuildSessionEndToEndTests(PackageFixture package, ITestOutputHelper output) : IClassFixture<PackageFixture>, IDisposable
{
    private const string Execution = "execution-ids";
    private const string Echo = """{"action":"echo","message":"registered"}""";
    private const string Quote = """{"action":"quote","items":[{"sku":"A","qty":12}],"coupon":"TEN"}""";
    private const string Assembly = "SampleFunction|SampleFunction.";
    private static readonly string Cli = RepositoryPaths.Combine("src", "Sealights.Images.Cli", "bin", "Release", "net8.0", "sl-images.dll");

    // The sample's own methods each path runs (read from samples/SampleFunction), by the ids the
    // format gives them; the environment's init also constructs the handler object. Not
    // Function's .cctor: the type is beforefieldinit and only the error answers read its static
    // SupportedActions (DiscountRules' .cctor runs: Apply reads Coupons for the coupon).
    private static readonly string[] Construction =
    [
        "Function|.ctor()",
        "PriceCatalog|.ctor()",
        "PricingEngine|.ctor(SampleFunction.PriceCatalog,SampleFunction.DiscountRules)",
    ];

    private static readonly string[] EchoPath =
    [
        "Function|Handle(System.IO.Stream)",
        "FunctionRequest|.ctor(System.String,System.Collections.Generic.IReadOnlyList<SampleFunction.LineItem>,System.String,System.String,System.Nullable<System.Int32>)",
        "Function|Echo(System.String)",
        "EchoResponse|.ctor(System.String,System.String,System.Int32)",
        "Function|Write`1(!!0,System.Text.Json.Serialization.Metadata.JsonTypeInfo<!!0>)",
    ];

    private static readonly string[] QuotePath =
    [
        "Function|Handle(System.IO.Stream)",
        "FunctionRequest|.ctor(System.String,System.Collections.Generic.IReadOnlyList<SampleFunction.LineItem>,System.String,System.String,System.Nullable<System.Int32>)",
        "LineItem|.ctor(System.String,System.Int32)",
        "PricingEngine|Price(System.Collections.Generic.IReadOnlyList<SampleFunction.LineItem>,System.String)",
        "PricingEngine|PriceLine(SampleFunction.LineItem)",
        "PriceCatalog|TryGetPrice(System.String,System.Decimal&)",
        "QuoteLine|.ctor(System.String,System.Int32,System.Decimal,System.Decimal)",
        "PricingEngine|Price>lambda_5_0",
        "PricingEngine|Price>lambda_5_1",
        "PricingEngine|Price>lambda_5_2",
        "DiscountRules|.cctor()",
        "DiscountRules|Apply(System.Decimal,System.Int32,System.String)",
        "DiscountRules|Add(System.Collections.Generic.List<SampleFunction.Discount>,System.String,System.Decimal,System.Decimal)",
        "Discount|.ctor(System.String,System.Decimal)",
        "Quote|.ctor(System.String,System.Collections.Generic.IReadOnlyList<SampleFunction.QuoteLine>,System.Decimal,System.Collections.Generic.IReadOnlyList<SampleFunction.Discount>,System.Decimal,System.Decimal)",
        "Function|Write`1(!!0,System.Text.Json.Serialization.Metadata.JsonTypeInfo<!!0>)",
    ];

    // The JSON source generator's code for the types the two paths read and write (one file per
    // type, SampleJsonContext.<Type>.g.cs), and for the types neither path touches.
    private static readonly string[] SerializedTypes =
        ["FunctionRequest", "LineItem", "IReadOnlyListLineItem", "EchoResponse", "Quote", "QuoteLine", "IReadOnlyListQuoteLine", "Discount", "IReadOnlyListDiscount"];

    private static readonly string[] UnusedTypes = ["InfoResponse", "WaitResponse", "ClientError", "IReadOnlyListString"];

    private readonly string _directory = Directory.CreateTempSubdirectory("sl-build-e2e-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Every_footprint_id_is_registered_in_the_uploaded_build_map_and_they_are_the_methods_the_two_paths_ran()
    {
        var port = FreePorts.Next();
        await using var backend = await TestBackendProcess.StartAsync(_directory, port, execution: Execution, output: output.WriteLine, recordAll: true);
        var token = SealightsTokens.Create(backend.Server.AbsoluteUri);
        // Outside the project: the token file never comes near the publish folder.
        var tokenFile = Path.Combine(_directory, "sl-token");
        File.WriteAllText(tokenFile, token);
        var bsidFile = Path.Combine(_directory, "bsid");

        var config = await ProcessRunner.RunAsync(
            "dotnet", [Cli, "config", "--token-file", tokenFile, "--app", "sample-function", "--branch", "main", "--build", $"it-{Guid.NewGuid():N}"[..11], "--bsid-file", bsidFile, "--json"],
            TimeSpan.FromMinutes(1));
        output.WriteLine(config.Output);
        config.EnsureSuccess("sl-images config");
        var bsid = File.ReadAllText(bsidFile).Trim();
        Assert.Equal(bsid, (string?)JsonNode.Parse(config.StdOut)!["buildSessionId"]);

        var project = LambdaContainersPackage.CreateConsumer(
            package.PackageVersion, "net10.0", $"<SealightsTokenFile>{tokenFile}</SealightsTokenFile><SealightsBuildSessionIdFile>{bsidFile}</SealightsBuildSessionIdFile>");
        var (registry, repository) = StandInImages.ContainerTarget("it/build-session");
        var tag = $"bs-{Guid.NewGuid():N}"[..11];
        var publish = await ProcessRunner.RunAsync(
            "dotnet",
            ["publish", project, "-t:PublishContainer", "-c", "Release", "--nologo", $"-p:ContainerRegistry={registry}", $"-p:ContainerRepository={repository}", $"-p:ContainerImageTag={tag}"],
            TimeSpan.FromMinutes(10));
        output.WriteLine(publish.Output);
        publish.EnsureSuccess("dotnet publish -t:PublishContainer");
        Assert.Contains($"Sealights build session {bsid}: build map uploaded", publish.Output);
        Assert.DoesNotContain(token, publish.Output);

        // The build map the backend now holds for the session.
        var upload = await backend.BuildMapAsync(bsid);
        Assert.NotNull(upload);
        Assert.DoesNotContain(token, upload.ToJsonString());
        var registered = upload["buildMap"]!["files"]!.AsArray()
            .SelectMany(f => f!["methods"]!.AsArray().Select(m => (Id: (string)m!["uniqueId"]!, File: (string)f["logicalPath"]!)))
            .ToDictionary(m => m.Id, m => m.File);

        // The bsid travels with the image (label and /var/task/sealights.json); the token does not.
        var image = $"{StandInImages.Registry}/it/build-session:{tag}";
        (await DockerCli.RunAsync(["pull", "--quiet", image])).EnsureSuccess("docker pull");
        Assert.Equal(bsid, await DockerCli.InspectAsync(image, "{{index .Config.Labels \"io.sealights.build-session-id\"}}"));
        var imageConfig = (await DockerCli.RunAsync(["image", "inspect", image])).EnsureSuccess("docker image inspect").StdOut;
        Assert.DoesNotContain(token, imageConfig);
        var settings = (await DockerCli.RunAsync(["run", "--rm", "--network", "host", "--entrypoint", "cat", image, "/var/task/sealights.json"])).EnsureSuccess("cat sealights.json").StdOut;
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["SL_BUILD_SESSION_ID"] = bsid }, JsonNode.Parse(settings)), settings);
        // The SDK's layer is the publish folder at /var/task: no file in it holds the token.
        var grep = await DockerCli.RunAsync(["run", "--rm", "--network", "host", "--entrypoint", "grep", image, "-rlF", "--", token, "/var/task"]);
        Assert.Equal(1, grep.ExitCode);
        Assert.Equal("", grep.StdOut);

        // The function with only the token (its x-sl-server is the backend), over two paths.
        await using (var container = await LambdaContainer.StartAsync(image, new Dictionary<string, string> { ["SL_TOKEN"] = token }))
        {
            Assert.Equal("""{"action":"echo","message":"registered","length":10}""", (await container.InvokeAsync(Echo)).Body);
            Assert.Contains("\"total\":51.3", (await container.InvokeAsync(Quote)).Body);
            await container.StopAsync();
            var logs = await container.LogsAsync();
            output.WriteLine(logs);
            Assert.DoesNotContain(token, logs);
        }

        var records = backend.FootprintsRecords();
        Assert.NotEmpty(records);
        foreach (var record in records)
        {
            Assert.Equal($"/api/v6/agents/{bsid}/footprints/Functional%20Tests/{bsid}/", (string?)record["rawTarget"]);
            // Every id the document carries, whether or not a hit points at it.
            var ids = record["body"]!["methods"]!.AsArray().Select(m => (string)m!).ToList();
            Assert.All(ids, id => Assert.True(registered.ContainsKey(id), $"{id} is not in the uploaded build map"));
        }

        var delivered = backend.DeliveredMethods().ToHashSet(StringComparer.Ordinal);
        output.WriteLine(string.Join('\n', delivered.Order(StringComparer.Ordinal)));
        bool Generated(string id) => registered[id].EndsWith(".g.cs", StringComparison.Ordinal);

        // The sample's own code: exactly the methods the two paths run, each registered.
        var expected = Construction.Concat(EchoPath).Concat(QuotePath).Select(m => Assembly + m).ToHashSet(StringComparer.Ordinal);
        Assert.All(expected, id => Assert.True(registered.ContainsKey(id), $"{id} (expected) is not in the uploaded build map"));
        Assert.Equal(expected.Order(StringComparer.Ordinal), delivered.Where(id => !Generated(id)).Order(StringComparer.Ordinal));

        // The generated serializer code: only that of the types the paths read and write, and each
        // of those types' metadata was created.
        // SampleJsonContext.<Type>.g.cs -> <Type>; the context's own files (SampleJsonContext.g.cs,
        // .GetJsonTypeInfo.g.cs, .PropertyNames.g.cs) are shared by every type.
        string TypeOf(string id) => Path.GetFileName(registered[id])[..^".g.cs".Length].Replace("SampleJsonContext", "").TrimStart('.');
        var generatedTypes = delivered.Where(Generated).Select(TypeOf).ToHashSet(StringComparer.Ordinal);
        output.WriteLine($"generated code ran for: {string.Join(", ", generatedTypes.Order(StringComparer.Ordinal))}");
        Assert.All(SerializedTypes, type => Assert.Contains($"{Assembly}SampleJsonContext|Create_{type}(System.Text.Json.JsonSerializerOptions)", delivered));
        Assert.All(UnusedTypes, type => Assert.DoesNotContain(type, generatedTypes));
        Assert.All(generatedTypes, type => Assert.True(
            SerializedTypes.Contains(type) || type is "String" or "Decimal" or "Int32" or "NullableInt32" or "" or "GetJsonTypeInfo" or "PropertyNames",
            $"generated code for {type} ran, but neither path uses that type"));
    }
}
