namespace Sealights.Images.Testing;

/// <summary>
/// The coverage-ready image (images/lambda-dotnet/Dockerfile) built on a stand-in base with the
/// agent published NativeAOT from this repository, as the product build does.
/// </summary>
public static class CoverageImages
{
    /// <summary>
    /// The published agent (sealights-lambda-agent) for linux-x64 or linux-arm64, rebuilt only when
    /// its sources change. linux-arm64 is cross-compiled as images/lambda-dotnet/build.sh does it.
    /// <paramref name="framework"/> other than the project's net10.0 (the bench's net8.0
    /// comparison) is restored and published apart, so the project's own obj/ stays as it is.
    /// </summary>
    public static async Task<string> PublishAgentAsync(string rid = "linux-x64", string framework = "net10.0")
    {
        var key = ContentKey.Of(
            [RepositoryPaths.Combine("src", "Sealights.Lambda.Agent"), RepositoryPaths.Combine("src", "Sealights.Coverage")],
            File.ReadAllText(RepositoryPaths.Combine("Directory.Build.props")),
            File.ReadAllText(RepositoryPaths.Combine("Directory.Packages.props")));
        var flavour = (rid == "linux-x64" ? "" : $"{rid}-") + (framework == "net10.0" ? "" : $"{framework}-");
        var output = Path.Combine(RepositoryPaths.Artifacts, "agent-publish", flavour + key);
        var binary = Path.Combine(output, "sealights-lambda-agent");
        List<string> arguments = ["publish", RepositoryPaths.Combine("src", "Sealights.Lambda.Agent"), "-c", "Release", "-r", rid, "-o", output, "--nologo"];
        List<string>? restore = null;
        if (framework != "net10.0")
        {
            var artifacts = Path.Combine(RepositoryPaths.Artifacts, "agent-publish", $"{framework}-build");
            restore = ["restore", RepositoryPaths.Combine("src", "Sealights.Lambda.Agent"), "-r", rid, $"-p:TargetFramework={framework}", "-p:PublishAot=true", "--artifacts-path", artifacts];
            arguments.AddRange([$"-p:TargetFramework={framework}", "--no-restore", "--artifacts-path", artifacts]);
        }
        if (rid == "linux-arm64")
        {
            // Its own artifacts path: the project's obj/ stays the linux-x64 restore other builds use.
            arguments.AddRange(CrossPublishArm64);
            arguments.AddRange(["--artifacts-path", Path.Combine(RepositoryPaths.Artifacts, "agent-publish", "arm64-build")]);
        }
        return await BuildLock.RunAsync(async () =>
        {
            if (!File.Exists(binary))
            {
                if (restore is not null)
                {
                    (await ProcessRunner.RunAsync("dotnet", restore, TimeSpan.FromMinutes(10))).EnsureSuccess($"dotnet restore of the agent for {framework}");
                }
                (await ProcessRunner.RunAsync("dotnet", arguments, TimeSpan.FromMinutes(10)))
                    .EnsureSuccess($"dotnet publish (NativeAOT, {rid}, {framework}) of the agent");
            }
            return binary;
        });
    }

    /// <summary>NativeAOT for linux-arm64 on this x64 machine: Debian's clang, lld and aarch64 GNU toolchain.</summary>
    public static readonly string[] CrossPublishArm64 =
        ["-p:CppCompilerAndLinker=clang", "-p:SysRoot=/", "-p:LinkerFlavor=lld", "-p:ObjCopyName=aarch64-linux-gnu-objcopy"];

    /// <summary>Builds the coverage-ready image on a base and returns its tag (arm64: the agent for linux-arm64, the image linux/arm64).</summary>
    public static async Task<string> BuildAsync(string baseImage, string agentVersion = "0.0.0-test", string architecture = "x86_64", string agentFramework = "net10.0")
    {
        var arm64 = architecture == "arm64";
        var agent = await PublishAgentAsync(arm64 ? "linux-arm64" : "linux-x64", agentFramework);
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
        }, platform: arm64 ? "linux/arm64" : null);
        Directory.Delete(context, recursive: true);
        return tag;
    }

    /// <summary>
    /// The product build (images/lambda-dotnet/build.sh) on a stand-in base, pushed as
    /// {registry}/sealights/lambda-dotnet:{tag}: for 10 a multi-platform index (linux/amd64 on the
    /// stand-in :10, linux/arm64 on the stand-in 10-arm64), for 8 a linux/amd64 image.
    /// </summary>
    public static async Task<string> BuildAndPushAsync(string tag)
    {
        List<string> arguments = [RepositoryPaths.Combine("images", "lambda-dotnet", "build.sh"), "--tag", tag, "--base", StandInImages.Base(tag), "--registry", StandInImages.Registry];
        if (tag == "10")
        {
            arguments.AddRange(["--base-arm64", StandInImages.Base("10-arm64")]);
        }
        await BuildLock.RunAsync(async () => (await ProcessRunner.RunAsync("bash", arguments, TimeSpan.FromMinutes(20)))
            .EnsureSuccess($"images/lambda-dotnet/build.sh --tag {tag}"));
        var image = $"{StandInImages.Registry}/sealights/lambda-dotnet:{tag}";
        // build.sh leaves its local images (every tag, both platforms) in the engine: the run removes them at its end.
        foreach (var local in tag == "10" ? new[] { image, $"{image}-arm64" } : [image])
        {
            foreach (var reference in (await DockerCli.InspectAsync(local, "{{join .RepoTags \"\\n\"}}")).Split('\n'))
            {
                if (reference.StartsWith($"{StandInImages.Registry}/sealights/lambda-dotnet:", StringComparison.Ordinal))
                {
                    TestRun.RecordPulled(reference);
                }
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
