using Sealights.Images.Testing;

namespace Sealights.Images.IntegrationTests.Infrastructure;

/// <summary>
/// Once per run: the coverage-ready image (images/lambda-dotnet/Dockerfile with the agent
/// published NativeAOT) on the .NET 10 stand-in, and the sample function built on top of it.
/// </summary>
public sealed class CoverageFixture : IAsyncLifetime
{
    public string CoverageImage { get; private set; } = "";

    /// <summary>The sample function on the coverage-ready image, CMD = its handler.</summary>
    public string SampleImage { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await StandInImages.EnsureBaseImagesAsync();
        CoverageImage = await CoverageImages.BuildAsync(StandInImages.Base("10"));
        SampleImage = await StandInImages.BuildSampleAsync("net10.0", CoverageImage);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

// Not in parallel with the other collections: these tests wait for post-runtime flushes and
// Telemetry API events with time limits (300 ms budget, 2 s for platform.start) that a
// concurrent image build or NativeAOT publish on 2 cores can exceed; in CI such a wait for the
// first invocation's footprints failed twice in whole-assembly CI runs, never when run alone.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CoverageCollection : ICollectionFixture<CoverageFixture>
{
    public const string Name = "coverage image";
}
