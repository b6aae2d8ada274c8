namespace Sealights.Images.Testing;

/// <summary>
/// The coverage-ready image (images/lambda-dotnet/Dockerfile) built on a stand-in base with the
/// agent published NativeAOT from this repository, as the product build does.
/// </summary>
public static class CoverageImages
{
    /// <summary>The published agent (sealights-lambda-agent), rebuilt only when its sources change.</summary>
    public static async Task<string> PublishAgentAsync()
    {
        var key = ContentKey.Of(
            [RepositoryPaths.Combine("src", "Sealights.Lambda.Agent"), RepositoryPaths.Combine("src", "Sealights.Coverage")],
            File.ReadAllText(RepositoryPaths.Combine("Directory.Build.props")),
            File.ReadAllText(RepositoryPaths.Combine("Directory.Packages.props")));
        var output = Path.Combine(RepositoryPaths.Artifacts, "agent-publish", key);
        var binary = Path.Combine(output, "sealights-lambda-agent");
        return await BuildLock.RunAsync(async () =>
        {
            if (!File.Exists(binary))
            {
                (await ProcessRunner.RunAsync(
                    "dotnet",
                    ["publish", RepositoryPaths.Combine("src", "Sealights.Lambda.Agent"), "-c", "Release", "-r", "linux-x64", "-o", output, "--nologo"],
                    TimeSpan.FromMinutes(10)))
                    .EnsureSuccess("dotnet publish (NativeAOT) of the agent");
            }
            return binary;
        });
    }

    /// <summary>Builds the coverage-ready image on a base and returns its tag.</summary>
    public static async Task<string> BuildAsync(string baseImage, string agentVersion = "0.0.0-test")
    {
        var agent = await PublishAgentAsync();
        var context = Path.Combine(RepositoryPaths.Artifacts, "coverage-image-context", Guid.NewGuid().ToString("N")[..8]);
        var layer = Path.Combine(context, "layer");
        CopyTree(RepositoryPaths.Combine("src", "Sealights.Lambda.Agent", "layer"), layer);
        File.Copy(agent, Path.Combine(layer, "sealights", "bin", "sealights-lambda-agent"));
        foreach (var file in new[] { "Dockerfile", "lambda-entrypoint.sh" })
        {
            File.Copy(RepositoryPaths.Combine("images", "lambda-dotnet", file), Path.Combine(context, file));
        }

        var baseId = await DockerCli.InspectAsync(baseImage, "{{.Id}}");
        var tag = $"sl-it/coverage:{TestRun.Id}-{ContentKey.Of([context], baseId)}";
        await DockerCli.BuildAsync(context, tag, new Dictionary<string, string>
        {
            ["BASE_IMAGE"] = baseImage,
            ["AGENT_VERSION"] = agentVersion,
        });
        Directory.Delete(context, recursive: true);
        return tag;
    }

    /// <summary>The product build (images/lambda-dotnet/build.sh) on a stand-in base, pushed as {registry}/sealights/lambda-dotnet:{tag}.</summary>
    public static async Task<string> BuildAndPushAsync(string tag)
    {
        await BuildLock.RunAsync(async () => (await ProcessRunner.RunAsync(
            "bash",
            [RepositoryPaths.Combine("images", "lambda-dotnet", "build.sh"), "--tag", tag, "--base", StandInImages.Base(tag), "--registry", StandInImages.Registry],
            TimeSpan.FromMinutes(15))).EnsureSuccess($"images/lambda-dotnet/build.sh --tag {tag}"));
        var image = $"{StandInImages.Registry}/sealights/lambda-dotnet:{tag}";
        // build.sh leaves its local image (both tags) in the engine: the run removes it at its end.
        foreach (var reference in (await DockerCli.InspectAsync(image, "{{join .RepoTags \"\\n\"}}")).Split('\n'))
        {
            if (reference.StartsWith($"{StandInImages.Registry}/sealights/lambda-dotnet:", StringComparison.Ordinal))
            {
                TestRun.RecordPulled(reference);
            }
        }
        return image;
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var path in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, path));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            // File.Copy keeps the executable bits the launcher and wrapper need.
            File.Copy(path, target);
        }
    }
}
