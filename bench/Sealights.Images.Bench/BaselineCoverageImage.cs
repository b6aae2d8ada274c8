using Sealights.Images.Testing;

namespace Sealights.Images.Bench;

/// <summary>
/// The coverage-ready image as another revision of this repository built it (its agent, layer
/// scripts and image files), so a change can be measured against what it replaces in the same
/// run, on the same machine. Sources come from <c>git archive</c>: the working tree is untouched.
/// </summary>
internal static class BaselineCoverageImage
{
    private static readonly string[] Sources =
    [
        "src/Sealights.Lambda.Agent", "src/Sealights.Coverage", "images/lambda-dotnet",
        // Directory.Build.targets imports standins/LocalFeed.targets (since the stand-in packages moved there).
        "standins",
        "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json", "nuget.config",
    ];

    /// <summary>Builds (or reuses) the coverage image of <paramref name="gitRef"/> on <paramref name="baseImage"/>; returns its tag.</summary>
    public static async Task<string> BuildAsync(string gitRef, string baseImage)
    {
        var commit = (await ProcessRunner.RunAsync("git", ["-C", RepositoryPaths.Root, "rev-parse", "--verify", gitRef + "^{commit}"], TimeSpan.FromSeconds(30)))
            .EnsureSuccess($"git rev-parse {gitRef}").StdOut.Trim();
        var root = Path.Combine(RepositoryPaths.Artifacts, "bench-baseline", commit[..12]);
        var agent = Path.Combine(root, "publish", "sealights-lambda-agent");
        if (!File.Exists(agent))
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }

            Directory.CreateDirectory(root);
            (await ProcessRunner.RunAsync(
                "bash",
                ["-c", $"git -C '{RepositoryPaths.Root}' archive {commit} {string.Join(' ', Sources)} | tar -x -C '{root}'"],
                TimeSpan.FromMinutes(2)))
                .EnsureSuccess($"git archive {gitRef}");
            (await ProcessRunner.RunAsync(
                "dotnet",
                // The agent uses no stand-in package: packing them again from here would only rewrite the
                // shared NuGet cache under builds running beside this one.
                ["publish", Path.Combine(root, "src", "Sealights.Lambda.Agent"), "-c", "Release", "-r", "linux-x64", "-o", Path.Combine(root, "publish"), "--nologo", "-p:SkipLocalFeedPack=true"],
                TimeSpan.FromMinutes(10)))
                .EnsureSuccess($"dotnet publish of the agent at {gitRef}");
        }

        var context = Path.Combine(root, "context");
        if (Directory.Exists(context))
        {
            Directory.Delete(context, recursive: true);
        }

        CopyTree(Path.Combine(root, "src", "Sealights.Lambda.Agent", "layer"), Path.Combine(context, "layer"));
        File.Copy(agent, Path.Combine(context, "layer", "sealights", "bin", "sealights-lambda-agent"));
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "images", "lambda-dotnet")))
        {
            File.Copy(file, Path.Combine(context, Path.GetFileName(file)));
        }

        var tag = $"sl-bench/coverage-baseline:{commit[..12]}-{ContentKey.Of([context], await DockerCli.InspectAsync(baseImage, "{{.Id}}"))}";
        await DockerCli.BuildAsync(context, tag, new Dictionary<string, string> { ["BASE_IMAGE"] = baseImage, ["AGENT_VERSION"] = "baseline-" + commit[..12] });
        return tag;
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
