using Sealights.Coverage.Instrumentation;

namespace Sealights.Images.Testing;

/// <summary>
/// The stand-in base images (built by images/lambda-dotnet-local/build.sh, which reuses them
/// when their content is unchanged) and the sample function built into an image on top of them.
/// </summary>
public static class StandInImages
{
    public const string SampleHandler = "SampleFunction::SampleFunction.Function::Handle";

    public static string Registry { get; } = Environment.GetEnvironmentVariable("SL_REGISTRY") ?? "localhost:5000";

    /// <summary>
    /// <see cref="Registry"/> as the SDK's ContainerRegistry/ContainerRepository want it: the host
    /// alone, and any path (SL_REGISTRY=localhost:5000/team) in front of the repository.
    /// </summary>
    public static (string Host, string Repository) ContainerTarget(string repository) =>
        Registry.IndexOf('/') is var slash and > 0
            ? (Registry[..slash], $"{Registry[(slash + 1)..]}/{repository}")
            : (Registry, repository);

    /// <summary>The stand-in of public.ecr.aws/lambda/dotnet:{tag} in the local registry.</summary>
    public static string Base(string tag) => $"{Registry}/lambda/dotnet:{tag}";

    public static async Task EnsureBaseImagesAsync()
    {
        await BuildLock.RunAsync(async () => (await ProcessRunner.RunAsync(
            "bash", [RepositoryPaths.Combine("images", "lambda-dotnet-local", "build.sh")], TimeSpan.FromMinutes(20)))
            .EnsureSuccess("images/lambda-dotnet-local/build.sh"));
    }

    /// <summary>Publishes the sample function for a framework and builds it on the matching stand-in (or the given image).</summary>
    public static async Task<string> BuildSampleAsync(string framework, string? onImage = null)
    {
        var baseImage = onImage ?? Base(framework == "net8.0" ? "8" : "10");
        var output = await FunctionPublisher.PublishAsync(Path.Combine("samples", "SampleFunction"), framework);
        return await ImageBuilder.BuildAsync(baseImage, [], cmd: SampleHandler, copyDirectoryTo: "/var/task/", copyDirectoryFrom: output);
    }

    /// <summary>
    /// The sample function published, then instrumented in place (compiled-in probes, what
    /// <c>sl-images instrument</c> does for a Dockerfile build), on <paramref name="onImage"/>.
    /// </summary>
    public static async Task<string> BuildInstrumentedSampleAsync(string framework, string onImage)
    {
        var published = await FunctionPublisher.PublishAsync(Path.Combine("samples", "SampleFunction"), framework);
        var folder = Directory.CreateTempSubdirectory("sl-instrumented-sample-").FullName;
        try
        {
            ImageBuilder.CopyDirectory(published, folder);
            var result = new PublishFolderInstrumenter(ProbesAssembly.Default()).Instrument(folder);
            if (result.Refused)
            {
                throw new InvalidOperationException("instrumenting the sample failed: " + string.Join("; ", result.Assemblies.Select(a => a.Describe())));
            }
            return await ImageBuilder.BuildAsync(onImage, [], cmd: SampleHandler, copyDirectoryTo: "/var/task/", copyDirectoryFrom: folder);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
