namespace Sealights.Images.Testing;

/// <summary>
/// <c>dotnet publish</c> of a function project of this repository into
/// artifacts/function-publish/&lt;project&gt;/&lt;framework&gt; (emptied first), one build at a time.
/// </summary>
public static class FunctionPublisher
{
    /// <summary>The version of Amazon.Lambda.Core the repository restores (Directory.Packages.props).</summary>
    public static string AmazonLambdaCoreVersion { get; } = typeof(FunctionPublisher).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>()
        .Single(a => a.Key == "AmazonLambdaCoreVersion").Value!;

    /// <summary>The local feed the stand-in Amazon.Lambda.Core is packed into before restore.</summary>
    public static string StandInFeed => Path.Combine(RepositoryPaths.Artifacts, "local-feed");

    public static async Task<string> PublishAsync(string projectDirectory, string framework)
    {
        var project = RepositoryPaths.Combine(projectDirectory);
        var output = Path.Combine(RepositoryPaths.Artifacts, "function-publish", Path.GetFileName(project), framework);
        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }
        await BuildLock.RunAsync(async () => (await ProcessRunner.RunAsync(
            "dotnet",
            ["publish", project, "-c", "Release", "-f", framework, "-o", output, "--nologo"],
            TimeSpan.FromMinutes(5)))
            .EnsureSuccess($"dotnet publish {projectDirectory} -f {framework}"));
        return output;
    }
}
