namespace Sealights.Images.IntegrationTests.Infrastructure;

/// <summary>
/// Once per test run: the stand-in base images (built by images/lambda-dotnet-local/build.sh,
/// which reuses them when their content is unchanged) and the sample function built for each
/// .NET version into an image on top of them.
/// </summary>
public sealed class StandInFixture : IAsyncLifetime
{
    public const string SampleHandler = "SampleFunction::SampleFunction.Function::Handle";

    private static readonly string Registry = Environment.GetEnvironmentVariable("SL_REGISTRY") ?? "localhost:5000";

    public string BaseImage10 => $"{Registry}/lambda/dotnet:10";

    public string BaseImage8 => $"{Registry}/lambda/dotnet:8";

    /// <summary>The sample function on the .NET 10 stand-in, CMD = its handler.</summary>
    public string SampleImage10 { get; private set; } = "";

    /// <summary>The sample function built for net8.0 on the .NET 8 stand-in.</summary>
    public string SampleImage8 { get; private set; } = "";

    public async Task InitializeAsync()
    {
        (await ProcessRunner.RunAsync(
            "bash", [RepositoryPaths.Combine("images", "lambda-dotnet-local", "build.sh")], TimeSpan.FromMinutes(20)))
            .EnsureSuccess("images/lambda-dotnet-local/build.sh");
        SampleImage10 = await BuildSampleAsync("net10.0", BaseImage10);
        SampleImage8 = await BuildSampleAsync("net8.0", BaseImage8);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static async Task<string> BuildSampleAsync(string framework, string baseImage)
    {
        var output = Path.Combine(RepositoryPaths.Artifacts, "it-sample", framework);
        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }
        (await ProcessRunner.RunAsync(
            "dotnet",
            ["publish", RepositoryPaths.Combine("samples", "SampleFunction"), "-c", "Release", "-f", framework, "-o", output, "--nologo"],
            TimeSpan.FromMinutes(5)))
            .EnsureSuccess($"dotnet publish SampleFunction -f {framework}");
        return await ImageBuilder.BuildAsync(baseImage, [], cmd: SampleHandler, copyDirectoryTo: "/var/task/", copyDirectoryFrom: output);
    }
}

[CollectionDefinition(Name)]
public sealed class StandInCollection : ICollectionFixture<StandInFixture>
{
    public const string Name = "stand-in images";
}
