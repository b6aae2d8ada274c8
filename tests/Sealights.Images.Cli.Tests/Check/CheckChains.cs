namespace Sealights.Images.Cli.Tests.Check;

/// <summary>
/// A chain as builds leave it: an AWS base stand-in (no base labels), the coverage-ready image
/// labelled as images/lambda-dotnet/build.sh labels it, and an application image labelled as the
/// .NET SDK's container build labels it, each base recorded by its per-platform manifest digest.
/// </summary>
public sealed class CheckChains(OciPusher pusher, string host, string ns)
{
    public const string BaseName = "org.opencontainers.image.base.name";
    public const string BaseDigest = "org.opencontainers.image.base.digest";

    public string AwsRepository => RepositoriesOf(ns)[0];

    public string CoverageRepository => RepositoriesOf(ns)[1];

    public string AppRepository => RepositoriesOf(ns)[2];

    /// <summary>The three repositories of a namespace (what a push token must cover).</summary>
    public static string[] RepositoriesOf(string ns) => [$"{ns}/lambda/dotnet", $"{ns}/sealights/lambda-dotnet", $"{ns}/orders"];

    public string Aws => $"{host}/{AwsRepository}:10";

    public string Coverage => $"{host}/{CoverageRepository}:10";

    public string App => $"{host}/{AppRepository}:1";

    /// <summary>A new AWS base stand-in under the same tag (what AWS's weekly patch release does).</summary>
    public Task<string> PushAwsAsync(string platform = "linux/amd64", DateTimeOffset? created = null) =>
        pusher.PushImageAsync(AwsRepository, "10", platform, new Dictionary<string, string> { ["io.sealights.local.content-key"] = Guid.NewGuid().ToString("N") }, created ?? DateTimeOffset.UtcNow);

    public Task<string> PushCoverageAsync(string awsDigest, string platform = "linux/amd64") =>
        pusher.PushImageAsync(CoverageRepository, "10", platform, new Dictionary<string, string>
        {
            [BaseName] = Aws,
            [BaseDigest] = awsDigest,
            ["org.opencontainers.image.title"] = "Sealights coverage-ready AWS Lambda .NET base image",
            ["io.sealights.agent.version"] = "0.1.0",
        }, DateTimeOffset.UtcNow);

    public Task<string> PushAppAsync(string coverageDigest, string platform = "linux/amd64") =>
        pusher.PushImageAsync(AppRepository, "1", platform, new Dictionary<string, string>
        {
            [BaseName] = Coverage,
            [BaseDigest] = coverageDigest,
        }, DateTimeOffset.UtcNow);

    /// <summary>All three, one platform; returns the digests (AWS, coverage, app).</summary>
    public async Task<(string Aws, string Coverage, string App)> PushAllAsync(DateTimeOffset? awsCreated = null)
    {
        var aws = await PushAwsAsync(created: awsCreated);
        var coverage = await PushCoverageAsync(aws);
        var app = await PushAppAsync(coverage);
        return (aws, coverage, app);
    }
}
