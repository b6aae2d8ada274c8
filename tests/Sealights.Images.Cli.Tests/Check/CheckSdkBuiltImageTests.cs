using System.Text.Json.Nodes;
using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.Cli.Tests.Check;

/// <summary>
/// An application image built by the .NET SDK's own container build (<c>dotnet publish
/// -t:PublishContainer</c>) on a coverage-ready image in the local registry: the labels `check`
/// reads at the application level are the SDK's, not the test's.
/// </summary>
public sealed class CheckSdkBuiltImageTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "sl-images.dll");

    private readonly HttpClient _http = new();
    private readonly string _home = Directory.CreateTempSubdirectory("sl-check-sdk-").FullName;
    private readonly (string Host, string Namespace) _target = StandInImages.ContainerTarget("check-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_home, recursive: true);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Fresh_right_after_the_SDK_builds_the_app_and_stale_once_the_coverage_image_moves(bool coverageIsAnIndex)
    {
        var pusher = new OciPusher(_http, $"http://{_target.Host}");
        var chains = new CheckChains(pusher, _target.Host, _target.Namespace);
        var (aws, coverage, _) = await chains.PushAllAsync();
        if (coverageIsAnIndex)
        {
            var arm = await chains.PushCoverageAsync(await chains.PushAwsAsync("linux/arm64"), "linux/arm64");
            await pusher.PushIndexAsync(chains.CoverageRepository, "10", [("linux/amd64", coverage), ("linux/arm64", arm)]);
            await pusher.PushIndexAsync(chains.AwsRepository, "10", [("linux/amd64", aws)]);
        }
        var app = await PublishAsync(chains.Coverage, $"{_target.Namespace}/sdk-orders");

        var fresh = await CheckAsync(app, "--json");
        var newCoverage = await chains.PushCoverageAsync(aws);
        var stale = await CheckAsync(app, "--json");

        Assert.Equal(0, fresh.ExitCode);
        var levels = JsonNode.Parse(fresh.StdOut)!["images"]![0]!["levels"]!.AsArray();
        Assert.Equal(chains.Coverage, (string?)levels[0]!["baseName"]);
        Assert.Equal(coverage, (string?)levels[0]!["recordedBaseDigest"]);
        Assert.Equal(["fresh", "fresh"], levels.Select(l => (string)l!["status"]!));
        Assert.Equal(1, stale.ExitCode);
        var staleLevel = JsonNode.Parse(stale.StdOut)!["images"]![0]!["levels"]![0]!;
        Assert.Equal("stale", (string?)staleLevel["status"]);
        Assert.Equal(newCoverage, (string?)staleLevel["currentBaseDigest"]);
    }

    /// <summary>A console app published as a container on <paramref name="baseImage"/>; returns the pushed reference.</summary>
    private async Task<string> PublishAsync(string baseImage, string repository)
    {
        var project = Path.Combine(RepositoryPaths.Artifacts, "cli-tests", "sdk-app-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(project);
        try
        {
            File.WriteAllText(Path.Combine(project, "Orders.csproj"), """
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <EnableSdkContainerSupport>true</EnableSdkContainerSupport>
                    <ContainerRuntimeIdentifier>linux-x64</ContainerRuntimeIdentifier>
                    <UseAppHost>false</UseAppHost>
                  </PropertyGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(project, "Program.cs"), "System.Console.WriteLine(\"orders\");\n");
            var publish = await ProcessRunner.RunAsync(
                "dotnet",
                ["publish", project, "-t:PublishContainer", "-c", "Release", "--nologo", $"-p:ContainerBaseImage={baseImage}",
                 $"-p:ContainerRegistry={_target.Host}", $"-p:ContainerRepository={repository}", "-p:ContainerImageTag=1"],
                TimeSpan.FromMinutes(5));
            publish.EnsureSuccess("dotnet publish -t:PublishContainer");
            return $"{_target.Host}/{repository}:1";
        }
        finally
        {
            Directory.Delete(project, recursive: true);
        }
    }

    private async Task<ProcessResult> CheckAsync(params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync("dotnet", [Cli, "check", .. arguments], TimeSpan.FromMinutes(1), environment: new Dictionary<string, string> { ["DOCKER_CONFIG"] = _home });
        output.WriteLine($"$ sl-images check {string.Join(' ', arguments)}  -> exit {result.ExitCode}\n{result.StdOut}{result.StdErr}");
        return result;
    }
}
