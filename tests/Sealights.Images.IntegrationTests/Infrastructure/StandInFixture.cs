using Sealights.Images.Testing;

namespace Sealights.Images.IntegrationTests.Infrastructure;

/// <summary>Once per test run: the stand-in base images and the sample function images.</summary>
public sealed class StandInFixture : IAsyncLifetime
{
    /// <summary>The sample function on the .NET 10 stand-in, CMD = its handler.</summary>
    public string SampleImage10 { get; private set; } = "";

    /// <summary>The sample function built for net8.0 on the .NET 8 stand-in.</summary>
    public string SampleImage8 { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await StandInImages.EnsureBaseImagesAsync();
        SampleImage10 = await StandInImages.BuildSampleAsync("net10.0");
        SampleImage8 = await StandInImages.BuildSampleAsync("net8.0");
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

[CollectionDefinition(Name)]
public sealed class StandInCollection : ICollectionFixture<StandInFixture>
{
    public const string Name = "stand-in images";
}
