using Sealights.Images.Testing;

namespace Sealights.Images.Aws.Tests;

/// <summary>The stand-in of public.ecr.aws/lambda/dotnet:10 in the local registry (built once,
/// reused while its content is unchanged): what the pipeline scripts take as AWS's base here.</summary>
public static class StandInBase
{
    public static async Task<string> EnsureAsync()
    {
        await BuildLock.RunAsync(async () => (await ProcessRunner.RunAsync(
            "bash", [RepositoryPaths.Combine("images", "lambda-dotnet-local", "build.sh"), "10"], TimeSpan.FromMinutes(20)))
            .EnsureSuccess("images/lambda-dotnet-local/build.sh 10"));
        return StandInImages.Base("10");
    }
}
