using Sealights.Images.Testing;

namespace Sealights.Images.Aws.Tests;

/// <summary>A stand-in of public.ecr.aws/lambda/dotnet in the local registry (built once, reused
/// while its content is unchanged): what the pipeline scripts take as AWS's base here. 10-arm64 is
/// its linux/arm64 image (the first build of it takes about 20 minutes under QEMU).</summary>
public static class StandInBase
{
    public static async Task<string> EnsureAsync(string tag = "10")
    {
        await BuildLock.RunAsync(async () => (await ProcessRunner.RunAsync(
            "bash", [RepositoryPaths.Combine("images", "lambda-dotnet-local", "build.sh"), tag], TimeSpan.FromMinutes(40)))
            .EnsureSuccess($"images/lambda-dotnet-local/build.sh {tag}"));
        return StandInImages.Base(tag);
    }
}
