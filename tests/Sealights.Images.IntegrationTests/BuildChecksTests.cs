using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// The MSBuild package's checks (build/Sealights.Lambda.Containers.Checks.targets): what would
/// otherwise fail at the first invoke, or as an SDK stack trace, fails the publish with one error
/// that names the property to change.
/// </summary>
public sealed class BuildChecksTests(PackageFixture package, ITestOutputHelper output) : IClassFixture<PackageFixture>
{
    private async Task<ProcessResult> PublishAsync(string framework, string properties, IEnumerable<string>? extraArguments = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var project = LambdaContainersPackage.CreateConsumer(package.PackageVersion, framework, properties);
        var (registry, repository) = StandInImages.ContainerTarget("it/build-checks");
        List<string> arguments = ["publish", project, "-t:PublishContainer", "-c", "Release", "--nologo", $"-p:ContainerRepository={repository}", .. extraArguments ?? [$"-p:ContainerRegistry={registry}"]];
        var publish = await ProcessRunner.RunAsync("dotnet", arguments, TimeSpan.FromMinutes(5), environment: environment);
        output.WriteLine(publish.Output);
        return publish;
    }

    /// <summary>The publish failed with exactly one distinct error, <paramref name="code"/>, containing every fragment, and no SDK noise.</summary>
    private static void AssertOneError(ProcessResult publish, string code, params string[] fragments)
    {
        Assert.NotEqual(0, publish.ExitCode);
        var errors = publish.Output.Split('\n').Where(l => l.Contains(": error ", StringComparison.Ordinal))
            .Select(l => l[l.IndexOf(": error ", StringComparison.Ordinal)..].Split(" [")[0].Trim()).Distinct().ToList();
        var error = Assert.Single(errors);
        Assert.StartsWith($": error {code}: ", error, StringComparison.Ordinal);
        foreach (var fragment in fragments)
        {
            Assert.Contains(fragment, error, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("MSB4018", publish.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Building image", publish.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_typo_in_the_handlers_type_fails_the_publish_and_names_the_type()
    {
        var publish = await PublishAsync("net10.0", "<LambdaHandler>SampleFunction::SampleFunction.Functon::Handle</LambdaHandler>");
        AssertOneError(publish, "SLC001", "LambdaHandler", "has no type 'SampleFunction.Functon'", "did you mean 'SampleFunction.Function'");
    }

    [Fact]
    public async Task A_typo_in_the_handlers_method_fails_the_publish_and_lists_the_methods()
    {
        var publish = await PublishAsync("net10.0", "<LambdaHandler>SampleFunction::SampleFunction.Function::Handler</LambdaHandler>");
        AssertOneError(publish, "SLC001", "LambdaHandler", "has no method 'Handler'", "Handle");
    }

    [Fact]
    public async Task A_handler_without_colons_in_a_class_library_says_both_ways_out()
    {
        var publish = await PublishAsync("net10.0", "<LambdaHandler>SampleFunction</LambdaHandler>");
        AssertOneError(publish, "SLC001", "has no '::'", "class library", "Set LambdaHandler to SampleFunction::Namespace.Type::Method", "OutputType Exe");
    }

    [Fact]
    public async Task Net9_says_to_roll_forward_to_the_net10_image_or_change_the_framework()
    {
        var publish = await PublishAsync("net9.0", "");
        AssertOneError(publish, "SLC002", "TargetFramework 'net9.0'", "SealightsBaseImageTag to 10 and RollForward to Major", "net10.0");
    }

    [Fact]
    public async Task Net9_on_the_net10_image_without_roll_forward_is_refused_rather_than_failing_every_invoke()
    {
        var publish = await PublishAsync("net9.0", "<SealightsBaseImageTag>10</SealightsBaseImageTag>");
        AssertOneError(publish, "SLC002", "framework not found", "set RollForward to Major");
    }

    [Fact]
    public async Task Net9_rolled_forward_onto_the_net10_image_as_the_error_says_answers_its_invokes()
    {
        var (registry, repository) = StandInImages.ContainerTarget("it/build-checks");
        var publish = await PublishAsync("net9.0", "<SealightsBaseImageTag>10</SealightsBaseImageTag><RollForward>Major</RollForward>", [$"-p:ContainerRegistry={registry}", "-p:ContainerImageTag=net9-rolled"]);
        publish.EnsureSuccess("dotnet publish -t:PublishContainer (net9.0, RollForward Major, :10)");

        var image = $"{registry}/{repository}:net9-rolled";
        TestRun.RecordPulled(image);
        (await DockerCli.RunAsync(["pull", "--quiet", image])).EnsureSuccess("docker pull");
        await using var container = await LambdaContainer.StartAsync(image);
        var answer = await container.InvokeAsync("""{"action":"info"}""");
        Assert.Null(answer.FunctionError);
        Assert.Contains("\"framework\":\".NET 10.", answer.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_base_registry_that_cannot_be_reached_names_the_registry_property()
    {
        var registry = $"127.0.0.1:{FreePorts.Next()}";
        var publish = await PublishAsync("net10.0", $"<SealightsBaseImageRegistry>{registry}</SealightsBaseImageRegistry>");
        AssertOneError(publish, "SLC011", $"cannot reach {registry}", $"SealightsBaseImageRegistry '{registry}'");
    }

    [Fact]
    public async Task A_wrong_base_repository_names_the_repository_property()
    {
        var publish = await PublishAsync("net10.0", "<SealightsBaseImageRepository>sealights/lambda-dotnt</SealightsBaseImageRepository>");
        AssertOneError(publish, "SLC011", "does not exist", "SealightsBaseImageRepository 'sealights/lambda-dotnt'");
    }

    [Fact]
    public async Task A_stopped_Docker_daemon_is_named_when_the_image_goes_to_the_local_daemon()
    {
        // No ContainerRegistry: the image would be loaded into the local daemon, which this docker client cannot reach.
        var socket = Path.Combine(Directory.CreateTempSubdirectory("sl-no-docker-").FullName, "docker.sock");
        var publish = await PublishAsync("net10.0", "", extraArguments: [], environment: new Dictionary<string, string> { ["DOCKER_HOST"] = $"unix://{socket}" });
        AssertOneError(publish, "SLC012", "the Docker daemon is not running", "ContainerRegistry");
        Assert.DoesNotContain("Cannot find docker/podman executable", publish.Output, StringComparison.Ordinal);
    }
}
