using Sealights.Images.Testing;

namespace Sealights.Images.Aws.Tests;

/// <summary>Runs one of scripts/ as the workflows do (bash, from anywhere). One at a time: each builds
/// src/Sealights.Images.Cli (and the rebuild the agent), and two builds of a project share its obj/.</summary>
public static class PipelineScript
{
    public static Task<ProcessResult> RunAsync(string script, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null) =>
        BuildLock.RunAsync(() => ProcessRunner.RunAsync(
            "bash", [RepositoryPaths.Combine("scripts", script), .. arguments], timeout, environment: environment));
}
