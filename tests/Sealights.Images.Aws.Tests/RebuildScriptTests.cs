using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.Aws.Tests;

/// <summary>
/// scripts/rebuild-image.sh (what the rebuild workflow runs) against the local registry, with a
/// stand-in of AWS's base in a repository of this test's own: the first run builds, a run on the
/// same base builds nothing, a new base pushed under the same tag is picked up, labelled with its
/// per-platform digest and checked fresh; scripts/check-deployed-images.sh (the staleness
/// workflow's) says stale in between and fresh after. scripts/publish-index.sh (the workflow's
/// next job) makes the line's tag an index of each architecture's newest build.
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
        var published = $"{registry}/sealights/lambda-dotnet:10-x86_64";
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
        Assert.Contains(exclusions, p => EcrWildcard.Matches(p, "10-x86_64"));
        Assert.DoesNotContain(exclusions, p => EcrWildcard.Matches(p, third.Outputs["release_tag"]));
        var lifecycle = Templates.SubstituteDefaults(Templates.Ecr, repository.Map("LifecyclePolicy")["LifecyclePolicyText"]!);
        Assert.Contains("\"10-*-x86_64-*\"", lifecycle, StringComparison.Ordinal);
        Assert.True(EcrWildcard.Matches("10-*-x86_64-*", third.Outputs["release_tag"]));
    }

    [Fact]
    public async Task The_line_s_index_names_the_newest_build_of_each_architecture_each_on_its_own_base()
    {
        var standIns = new Dictionary<string, string> { ["x86_64"] = await StandInBase.EnsureAsync("10"), ["arm64"] = await StandInBase.EnsureAsync("10-arm64") };
        var platforms = new Dictionary<string, string> { ["x86_64"] = "linux/amd64", ["arm64"] = "linux/arm64" };
        var registry = $"{StandInImages.Registry}/index-{Guid.NewGuid().ToString("N")[..8]}";
        await using var localTags = new LocalTags(registry);
        var index = $"{registry}/sealights/lambda-dotnet:10";

        // AWS's base as AWS publishes it: one index with a manifest per platform.
        var baseImage = $"{registry}/lambda/dotnet:10";
        foreach (var (arch, standIn) in standIns)
        {
            await Docker("tag", standIn, $"{baseImage}-{arch}");
            await Docker("push", "--quiet", $"{baseImage}-{arch}");
        }
        await Docker("manifest", "create", "--insecure", baseImage, $"{baseImage}-x86_64", $"{baseImage}-arm64");
        await Docker("manifest", "push", "--insecure", "--purge", baseImage);

        var built = new Dictionary<string, Run>();
        foreach (var arch in standIns.Keys)
        {
            built[arch] = await RebuildAsync(registry, baseImage, "--arch", arch);
            Assert.Equal(0, built[arch].ExitCode);
            Assert.Equal($"{registry}/sealights/lambda-dotnet:10-{arch}", built[arch].Outputs["image"]);
        }

        var first = await PublishIndexAsync(registry);
        Assert.Equal(0, first.ExitCode);
        Assert.Equal("true", first.Outputs["updated"]);
        foreach (var (arch, platform) in platforms)
        {
            // Each platform of the index: that architecture's build, labelled with its own platform's base.
            Assert.Equal(built[arch].Outputs["digest"], first.Outputs[$"digest_{arch}"]);
            Assert.Equal(built[arch].Outputs["digest"], await DigestAsync(index, platform));
            Assert.Equal(await DigestAsync(baseImage, platform), await LabelAsync(index, "org.opencontainers.image.base.digest", platform));
        }
        Assert.NotEqual(await DigestAsync(baseImage, "linux/amd64"), await DigestAsync(baseImage, "linux/arm64"));

        // Nothing changed: nothing pushed.
        var second = await PublishIndexAsync(registry);
        Assert.Equal(0, second.ExitCode);
        Assert.Equal("false", second.Outputs["updated"]);
        Assert.Contains("nothing pushed", second.Log, StringComparison.Ordinal);

        // AWS patches one platform's base: only that architecture is rebuilt, and the index follows
        // it and keeps the other.
        await DockerBuildAsync($"{baseImage}-x86_64", $"FROM {baseImage}-x86_64\nLABEL io.sealights.test.moved=\"{Guid.NewGuid():N}\"\n");
        await Docker("push", "--quiet", $"{baseImage}-x86_64");
        await Docker("manifest", "create", "--insecure", "--amend", baseImage, $"{baseImage}-x86_64", $"{baseImage}-arm64");
        await Docker("manifest", "push", "--insecure", "--purge", baseImage);
        var rebuilt = await RebuildAsync(registry, baseImage, "--arch", "x86_64");
        Assert.Equal("true", rebuilt.Outputs["rebuilt"]);
        Assert.NotEqual(built["x86_64"].Outputs["digest"], rebuilt.Outputs["digest"]);
        Assert.Equal("false", (await RebuildAsync(registry, baseImage, "--arch", "arm64")).Outputs["rebuilt"]);
        var third = await PublishIndexAsync(registry);
        Assert.Equal(0, third.ExitCode);
        Assert.Equal("true", third.Outputs["updated"]);
        Assert.Equal(rebuilt.Outputs["digest"], await DigestAsync(index, "linux/amd64"));
        Assert.Equal(built["arm64"].Outputs["digest"], await DigestAsync(index, "linux/arm64"));

        var check = await ProcessRunner.RunAsync("dotnet", [Cli, "check", index, "--platform", "linux/arm64", "--json"], TimeSpan.FromMinutes(2));
        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Contains("\"status\": \"fresh\"", check.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_index_is_not_published_before_each_architecture_has_a_build()
    {
        var registry = $"{StandInImages.Registry}/noindex-{Guid.NewGuid().ToString("N")[..8]}";
        var result = await PipelineScript.RunAsync("publish-index.sh", ["--tag", "10", "--registry", registry], TimeSpan.FromMinutes(5));
        output.WriteLine(result.Output);
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("run scripts/rebuild-image.sh --tag 10 --arch x86_64 first", result.StdErr, StringComparison.Ordinal);
        var inspected = await ProcessRunner.RunAsync("dotnet", [Cli, "inspect", $"{registry}/sealights/lambda-dotnet:10", "--digest"], TimeSpan.FromMinutes(1));
        Assert.NotEqual(0, inspected.ExitCode);
    }

    private sealed record Run(int ExitCode, IReadOnlyDictionary<string, string> Outputs, string Log);

    private Task<Run> RebuildAsync(string registry, string baseImage, params string[] more) =>
        RunScriptAsync("rebuild-image.sh", ["--tag", "10", "--base", baseImage, "--registry", registry, .. more]);

    private Task<Run> PublishIndexAsync(string registry) =>
        RunScriptAsync("publish-index.sh", ["--tag", "10", "--registry", registry]);

    private async Task<Run> RunScriptAsync(string script, string[] arguments)
    {
        var outputs = Path.GetTempFileName();
        try
        {
            var result = await PipelineScript.RunAsync(
                script, arguments, TimeSpan.FromMinutes(15),
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

    private static async Task<string> DigestAsync(string image, string platform = "linux/amd64") =>
        (await ProcessRunner.RunAsync("dotnet", [Cli, "inspect", image, "--platform", platform, "--digest"], TimeSpan.FromMinutes(1)))
            .EnsureSuccess($"sl-images inspect {image}").StdOut.Trim();

    private static async Task<string> LabelAsync(string image, string label, string platform = "linux/amd64")
    {
        var json = (await ProcessRunner.RunAsync("dotnet", [Cli, "inspect", image, "--platform", platform], TimeSpan.FromMinutes(1)))
            .EnsureSuccess($"sl-images inspect {image}").StdOut;
        using var document = System.Text.Json.JsonDocument.Parse(json);
        return document.RootElement.GetProperty("labels").GetProperty(label).GetString()!;
    }

    private static async Task Docker(params string[] arguments) =>
        (await DockerCli.RunAsync(arguments, TimeSpan.FromMinutes(5))).EnsureSuccess("docker " + string.Join(' ', arguments));

    private static async Task DockerBuildAsync(string tag, string dockerfile) =>
        (await DockerCli.RunAsync(["build", "--quiet", "--tag", tag, "-"], TimeSpan.FromMinutes(5), stdIn: dockerfile)).EnsureSuccess("docker build " + tag);
}
