using System.Reflection;
using System.Text.Json;
using Sealights.Images.Testing;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// The sample is a real Lambda function: it builds offline against the stand-in Amazon.Lambda.Core
/// from the local feed, and its deps.json lists Amazon.Lambda.Core, which AWS's runtime client
/// binds from there.
/// </summary>
public sealed class SampleFunctionPackageTests
{
    [Theory]
    [InlineData("net10.0")]
    [InlineData("net8.0")]
    public async Task The_sample_publishes_with_Amazon_Lambda_Core_in_its_deps_json(string framework)
    {
        var output = await FunctionPublisher.PublishAsync(Path.Combine("samples", "SampleFunction"), framework);

        using var deps = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "SampleFunction.deps.json")));
        var key = $"Amazon.Lambda.Core/{FunctionPublisher.AmazonLambdaCoreVersion}";
        Assert.Equal("package", deps.RootElement.GetProperty("libraries").GetProperty(key).GetProperty("type").GetString());
        var target = deps.RootElement.GetProperty("targets").EnumerateObject().Single().Value;
        Assert.True(target.GetProperty(key).GetProperty("runtime").TryGetProperty("lib/net8.0/Amazon.Lambda.Core.dll", out _));

        // The binding identity AWS's runtime client asks for.
        var assembly = AssemblyName.GetAssemblyName(Path.Combine(output, "Amazon.Lambda.Core.dll"));
        Assert.Equal("Amazon.Lambda.Core", assembly.Name);
        Assert.Equal(new Version(1, 0, 0, 0), assembly.Version);
    }

    [Fact]
    public void The_stand_in_came_from_the_local_feed()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } root
            ? root
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var metadata = Path.Combine(packages, "amazon.lambda.core", FunctionPublisher.AmazonLambdaCoreVersion, ".nupkg.metadata");

        using var json = JsonDocument.Parse(File.ReadAllText(metadata));

        // A local folder feed named artifacts/local-feed (another checkout on this machine may have
        // extracted it last: the global packages folder is shared), never a remote source.
        var source = Path.TrimEndingDirectorySeparator(json.RootElement.GetProperty("source").GetString()!);
        Assert.True(Path.IsPathRooted(source), source);
        Assert.EndsWith(Path.Combine("artifacts", "local-feed"), source);
    }
}
