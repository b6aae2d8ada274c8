using System.IO.Compression;
using System.Xml.Linq;
using Sealights.Images.Testing;

namespace Sealights.Images.Aws.Tests;

/// <summary>The pipeline scripts' refusals (exit 2 bad input, 3 a registry that cannot be read) and
/// the release script's packages, run as the workflows run them.</summary>
public sealed class ScriptInputTests
{
    [Theory]
    [InlineData("--tag", "9")]
    [InlineData("--tag", "10", "--arch", "riscv64")]
    [InlineData("--tag", "10", "--bogus")]
    [InlineData("--tag", "8", "--arch", "arm64")]
    public async Task The_rebuild_script_refuses_bad_arguments_with_exit_2(params string[] arguments)
    {
        var result = await PipelineScript.RunAsync("rebuild-image.sh", arguments, TimeSpan.FromMinutes(1));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("rebuild-image", result.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--tag", "9")]
    [InlineData("--tag", "10", "--arch", "x86_64,riscv64")]
    [InlineData("--tag", "10", "--bogus")]
    public async Task The_index_script_refuses_bad_arguments_with_exit_2(params string[] arguments)
    {
        var result = await PipelineScript.RunAsync("publish-index.sh", arguments, TimeSpan.FromMinutes(1));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("publish-index", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_base_that_cannot_be_resolved_is_exit_3_and_nothing_is_built()
    {
        // A loopback port nothing listens on: the registry cannot be reached.
        var port = FreePorts.Next();
        var result = await PipelineScript.RunAsync(
            "rebuild-image.sh", ["--tag", "10", "--base", $"127.0.0.1:{port}/lambda/dotnet:10", "--registry", $"127.0.0.1:{port}/nowhere"], TimeSpan.FromMinutes(5));

        Assert.Equal(3, result.ExitCode);
        Assert.Contains($"cannot resolve 127.0.0.1:{port}/lambda/dotnet:10", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("== build", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_base_without_the_architecture_asked_for_is_exit_3_and_nothing_is_built()
    {
        // The stand-in is linux/amd64 only (AWS's base is an index with arm64 too).
        var standIn = await StandInBase.EnsureAsync();
        var result = await PipelineScript.RunAsync(
            "rebuild-image.sh",
            ["--tag", "10", "--arch", "arm64", "--base", standIn, "--registry", $"{StandInImages.Registry}/rebuild-arm64-{Guid.NewGuid().ToString("N")[..8]}"],
            TimeSpan.FromMinutes(5));

        Assert.Equal(3, result.ExitCode);
        Assert.Contains($"cannot resolve {standIn} for linux/arm64", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("== build", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_staleness_script_refuses_a_missing_or_empty_list_with_exit_2()
    {
        var folder = Directory.CreateTempSubdirectory("sl-staleness-").FullName;
        var empty = Path.Combine(folder, "empty.txt");
        await File.WriteAllTextAsync(empty, "# nothing deployed yet\n\n");

        Assert.Equal(2, (await PipelineScript.RunAsync("check-deployed-images.sh", [Path.Combine(folder, "missing.txt")], TimeSpan.FromMinutes(1))).ExitCode);
        var result = await PipelineScript.RunAsync("check-deployed-images.sh", [empty], TimeSpan.FromMinutes(5));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("lists no image", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_release_script_packs_the_MSBuild_package_and_the_tool_and_pushes_them_to_a_feed()
    {
        var feed = Directory.CreateTempSubdirectory("sl-release-feed-").FullName;
        var result = await PipelineScript.RunAsync("pack-release.sh", ["--version", "9.8.7-test", "--push", feed], TimeSpan.FromMinutes(10));
        Assert.True(result.ExitCode == 0, result.Output);

        var packages = Directory.GetFiles(feed, "*.nupkg", SearchOption.AllDirectories).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(["Sealights.Lambda.Containers.9.8.7-test.nupkg", "sl-images.9.8.7-test.nupkg"], packages);
        var tool = Directory.GetFiles(feed, "sl-images.9.8.7-test.nupkg", SearchOption.AllDirectories).Single();
        using var archive = ZipFile.OpenRead(tool);
        using var nuspec = archive.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        var packageTypes = XDocument.Load(nuspec).Descendants().Where(e => e.Name.LocalName == "packageType").Select(e => (string?)e.Attribute("name"));
        Assert.Contains("DotnetTool", packageTypes);
    }

    [Fact]
    public async Task The_local_pack_writes_both_packages_with_a_content_keyed_version_and_reuses_them_while_the_sources_are_unchanged()
    {
        // The documented feed (./run pack, artifacts/feed): the walk-through test packs into it too, so
        // whichever runs first pays for the pack once.
        var feed = Path.Combine(RepositoryPaths.Artifacts, "feed");
        var first = await PipelineScript.RunAsync("pack-release.sh", [], TimeSpan.FromMinutes(15));
        Assert.True(first.ExitCode == 0, first.Output);

        var lines = first.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var version = lines.Single(l => l.StartsWith("Sealights.Lambda.Containers ", StringComparison.Ordinal)).Split(' ')[1];
        Assert.Matches(@"^\d+\.\d+\.\d+-dev\.\d+\.g[0-9a-f]{12}$", version);
        Assert.Contains(lines, l => l.StartsWith($"sl-images {version}", StringComparison.Ordinal));
        Assert.Contains($"feed: {feed}", lines);
        Assert.True(File.Exists(Path.Combine(feed, $"Sealights.Lambda.Containers.{version}.nupkg")));
        Assert.True(File.Exists(Path.Combine(feed, $"sl-images.{version}.nupkg")));

        var second = await PipelineScript.RunAsync("pack-release.sh", [], TimeSpan.FromMinutes(2));
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Contains($"Sealights.Lambda.Containers {version} (packed before, reused)", second.StdOut, StringComparison.Ordinal);
        Assert.Contains($"sl-images {version} (packed before, reused)", second.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Packing_the_MSBuild_package_leaves_the_CLI_launcher_built_in_the_same_tree()
    {
        // The package publishes the CLI for its scan tool; with settings of its own (UseAppHost)
        // that publish made the CLI's next incremental build delete bin/Release/net8.0/sl-images.
        var launcher = RepositoryPaths.Combine("src", "Sealights.Images.Cli", "bin", "Release", "net8.0", "sl-images");
        (await BuildLock.RunAsync(() => ProcessRunner.RunAsync("dotnet", ["build", RepositoryPaths.Combine("src", "Sealights.Images.Cli"), "-c", "Release", "--nologo"], TimeSpan.FromMinutes(5))))
            .EnsureSuccess("dotnet build sl-images");
        Assert.True(File.Exists(launcher), launcher);

        var feed = Directory.CreateTempSubdirectory("sl-launcher-feed-").FullName;
        (await BuildLock.RunAsync(() => ProcessRunner.RunAsync("dotnet", ["pack", RepositoryPaths.Combine("msbuild", "Sealights.Lambda.Containers"), "-c", "Release", "-o", feed, "--nologo"], TimeSpan.FromMinutes(5))))
            .EnsureSuccess("dotnet pack Sealights.Lambda.Containers");

        Assert.True(File.Exists(launcher), $"{launcher} was deleted by packing the MSBuild package");
        using var archive = ZipFile.OpenRead(Directory.GetFiles(feed, "Sealights.Lambda.Containers.*.nupkg").Single());
        Assert.Contains(archive.Entries, e => e.FullName == "tools/scan/sl-images.dll");
        Assert.DoesNotContain(archive.Entries, e => e.FullName == "tools/scan/sl-images");
    }
}
