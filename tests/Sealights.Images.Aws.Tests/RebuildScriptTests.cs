using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.Aws.Tests;

/// <summary>
/// scripts/rebuild-image.sh (what the rebuild workflow runs) against the local registry, with a
/// stand-in of AWS's base in a repository of this test's own: the first run builds, a run on the
/// same base builds nothing, a new base pushed under the same tag is picked up, labelled with its
/// per-platform digest and checked fresh; scripts/check-deployed-images.sh (the staleness
/// workflow's) says stale in between and fresh after.
/// </summary>
public sealed class RebuildScriptTests(ITestOutputHelper output)
{
    private static readonly string Cli = RepositoryPaths.Combine("src", "Sealights.Images.Cli", "bin", "Release", "net8.0", "sl-images.dll");

    [Fact]
    public async Task The_image_is_rebuilt_only_when_its_base_moved_and_is_fresh_after()
    {
        var standIn = await StandInBase.EnsureAsync();
        var registry = $"{StandInImages.Registry}/rebuild-{Guid.NewGuid().ToString("N")[..8]}";
        await using var localTags = new LocalTags(registry);
        var baseImage = $"{registry}/lambda/dotnet:10";
        var published = $"{registry}/sealights/lambda-dotnet:10";
        await Docker("tag", standIn, baseImage);
        await Docker("push", "--quiet", baseImage);
        var firstBase = await DigestAsync(baseImage);

        // No image yet: built, pushed under a release tag and the moving tag, labelled with the base.
        var first = await RebuildAsync(registry, baseImage);
        Assert.Equal(0, first.ExitCode);
        Assert.Equal("true", first.Outputs["rebuilt"]);
        Assert.Equal(published, first.Outputs["image"]);
        Assert.Equal(firstBase, first.Outputs["base_digest"]);
        Assert.Equal(firstBase, await LabelAsync(published, "org.opencontainers.image.base.digest"));
        Assert.Equal(first.Outputs["digest"], await DigestAsync($"{registry}/sealights/lambda-dotnet:{first.Outputs["release_tag"]}"));
        Assert.Matches(@"^10-\d+\.\d+\.\d+[^-]*-x86_64-\d{8}T\d{6}Z$", first.Outputs["release_tag"]);

        // Same base: nothing built, nothing pushed.
        var second = await RebuildAsync(registry, baseImage);
        Assert.Equal(0, second.ExitCode);
        Assert.Equal("false", second.Outputs["rebuilt"]);
        Assert.False(second.Outputs.ContainsKey("release_tag"));
        Assert.Contains("nothing rebuilt", second.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("== build", second.Log, StringComparison.Ordinal);
        Assert.Equal(first.Outputs["digest"], await DigestAsync(published));

        var list = Path.Combine(Directory.CreateTempSubdirectory("sl-deployed-").FullName, "deployed-images.txt");
        await File.WriteAllTextAsync(list, $"# the coverage-ready image, as a deployed one\n{published}\n");
        Assert.Equal(0, (await CheckDeployedAsync(list)).ExitCode);

        // A new stand-in base under the same tag (AWS published a patched image).
        await DockerBuildAsync(baseImage, $"FROM {baseImage}\nLABEL io.sealights.test.moved=\"{Guid.NewGuid():N}\"\n");
        await Docker("push", "--quiet", baseImage);
        var movedBase = await DigestAsync(baseImage);
        Assert.NotEqual(firstBase, movedBase);
        var stale = await CheckDeployedAsync(list);
        Assert.True(stale.ExitCode == 1, $"expected stale (1) before the rebuild:\n{stale.Output}");

        var third = await RebuildAsync(registry, baseImage);
        Assert.Equal(0, third.ExitCode);
        Assert.Equal("true", third.Outputs["rebuilt"]);
        Assert.Equal(movedBase, third.Outputs["base_digest"]);
        Assert.Equal(movedBase, await LabelAsync(published, "org.opencontainers.image.base.digest"));
        Assert.NotEqual(first.Outputs["digest"], third.Outputs["digest"]);
        Assert.Equal(third.Outputs["digest"], await DigestAsync(published));
        Assert.NotEqual(first.Outputs["release_tag"], third.Outputs["release_tag"]);
        // The first release is still there, unmoved (release tags never move).
        Assert.Equal(first.Outputs["digest"], await DigestAsync($"{registry}/sealights/lambda-dotnet:{first.Outputs["release_tag"]}"));

        var check = await ProcessRunner.RunAsync("dotnet", [Cli, "check", published, "--json"], TimeSpan.FromMinutes(2));
        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Contains("\"status\": \"fresh\"", check.StdOut, StringComparison.Ordinal);
        Assert.Equal(0, (await CheckDeployedAsync(list)).ExitCode);
        // What Lambda runs is a digest (Code.ResolvedImageUri): the first build stays stale until redeployed.
        var pinned = Path.Combine(Path.GetDirectoryName(list)!, "pinned.txt");
        await File.WriteAllTextAsync(pinned, $"{registry}/sealights/lambda-dotnet@{first.Outputs["digest"]}\n");
        Assert.Equal(1, (await CheckDeployedAsync(pinned)).ExitCode);

        // ecr.yaml's rules fit the tags the script really pushes.
        var repository = Templates.Resource(Templates.Ecr, "Repository").Map("Properties");
        var exclusions = repository.List("ImageTagMutabilityExclusionFilters").Items.Cast<CfnMap>().Select(f => f.Text("ImageTagMutabilityExclusionFilterValue")).ToList();
        Assert.Contains(exclusions, p => EcrWildcard.Matches(p, "10"));
        Assert.DoesNotContain(exclusions, p => EcrWildcard.Matches(p, third.Outputs["release_tag"]));
        var lifecycle = Templates.SubstituteDefaults(Templates.Ecr, repository.Map("LifecyclePolicy")["LifecyclePolicyText"]!);
        Assert.Contains("\"10-*-x86_64-*\"", lifecycle, StringComparison.Ordinal);
        Assert.True(EcrWildcard.Matches("10-*-x86_64-*", third.Outputs["release_tag"]));
    }

    private sealed record Run(int ExitCode, IReadOnlyDictionary<string, string> Outputs, string Log);

    private async Task<Run> RebuildAsync(string registry, string baseImage)
    {
        var outputs = Path.GetTempFileName();
        try
        {
            var result = await PipelineScript.RunAsync(
                "rebuild-image.sh", ["--tag", "10", "--base", baseImage, "--registry", registry], TimeSpan.FromMinutes(15),
                new Dictionary<string, string> { ["GITHUB_OUTPUT"] = outputs });
            output.WriteLine(result.Output);
            var values = File.ReadAllLines(outputs).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
            return new Run(result.ExitCode, values, result.Output);
        }
        finally
        {
            File.Delete(outputs);
        }
    }

    private async Task<ProcessResult> CheckDeployedAsync(string list)
    {
        var result = await PipelineScript.RunAsync("check-deployed-images.sh", [list], TimeSpan.FromMinutes(5));
        output.WriteLine(result.Output);
        return result;
    }

    private static async Task<string> DigestAsync(string image) =>
        (await ProcessRunner.RunAsync("dotnet", [Cli, "inspect", image, "--platform", "linux/amd64", "--digest"], TimeSpan.FromMinutes(1)))
            .EnsureSuccess($"sl-images inspect {image}").StdOut.Trim();

    private static async Task<string> LabelAsync(string image, string label)
    {
        var json = (await ProcessRunner.RunAsync("dotnet", [Cli, "inspect", image, "--platform", "linux/amd64"], TimeSpan.FromMinutes(1)))
            .EnsureSuccess($"sl-images inspect {image}").StdOut;
        using var document = System.Text.Json.JsonDocument.Parse(json);
        return document.RootElement.GetProperty("labels").GetProperty(label).GetString()!;
    }

    private static async Task Docker(params string[] arguments) =>
        (await DockerCli.RunAsync(arguments, TimeSpan.FromMinutes(5))).EnsureSuccess("docker " + string.Join(' ', arguments));

    private static async Task DockerBuildAsync(string tag, string dockerfile) =>
        (await DockerCli.RunAsync(["build", "--quiet", "--tag", tag, "-"], TimeSpan.FromMinutes(5), stdIn: dockerfile)).EnsureSuccess("docker build " + tag);
}
