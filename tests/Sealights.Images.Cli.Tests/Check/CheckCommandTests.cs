using System.Text.Json.Nodes;
using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.Cli.Tests.Check;

/// <summary>
/// <c>sl-images check</c> as a real process against the real local registry (SL_REGISTRY, each
/// test in a namespace of its own), images pushed through the registry API as builds push them.
/// </summary>
public sealed class CheckCommandTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "sl-images.dll");

    private readonly HttpClient _http = new();
    private readonly string _home = Directory.CreateTempSubdirectory("sl-check-home-").FullName;
    private readonly (string Host, string Namespace) _target = StandInImages.ContainerTarget("check-" + Guid.NewGuid().ToString("N")[..8]);

    private CheckChains Chains => field ??= new CheckChains(new OciPusher(_http, $"http://{_target.Host}"), _target.Host, _target.Namespace);

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public async Task Fresh_right_after_the_chain_is_built()
    {
        var (aws, coverage, app) = await Chains.PushAllAsync();

        var table = await CheckAsync(Chains.App);
        var json = await CheckAsync(Chains.App, "--json");

        Assert.Equal(0, table.ExitCode);
        Assert.Contains($"{Chains.App} (linux/amd64): FRESH: built on the current {Chains.Coverage} on {Chains.Aws}", table.StdOut);
        Assert.Equal(0, json.ExitCode);
        var result = Assert.Single(Images(json));
        Assert.Equal("fresh", (string?)result["status"]);
        var levels = result["levels"]!.AsArray();
        Assert.Equal(2, levels.Count);
        Assert.Equal([Chains.App, $"{Chains.Coverage}@{coverage}"], levels.Select(l => (string)l!["image"]!));
        Assert.Equal([app, coverage], levels.Select(l => (string)l!["digest"]!));
        Assert.Equal([Chains.Coverage, Chains.Aws], levels.Select(l => (string)l!["baseName"]!));
        Assert.Equal([coverage, aws], levels.Select(l => (string)l!["recordedBaseDigest"]!));
        Assert.Equal([coverage, aws], levels.Select(l => (string)l!["currentBaseDigest"]!));
        Assert.All(levels, l => Assert.Equal("fresh", (string?)l!["status"]));
    }

    [Fact]
    public async Task Stale_when_a_new_AWS_stand_in_is_pushed_under_the_same_tag_the_coverage_image_is_outdated()
    {
        var (aws, _, _) = await Chains.PushAllAsync();
        var newAws = await Chains.PushAwsAsync();

        var app = await CheckAsync(Chains.App, "--json");
        var appTable = await CheckAsync(Chains.App);
        var coverage = await CheckAsync(Chains.Coverage);

        Assert.Equal(1, app.ExitCode);
        var levels = Assert.Single(Images(app))["levels"]!.AsArray();
        Assert.Equal("fresh", (string?)levels[0]!["status"]);
        Assert.Equal("stale", (string?)levels[1]!["status"]);
        Assert.Equal(aws, (string?)levels[1]!["recordedBaseDigest"]);
        Assert.Equal(newAws, (string?)levels[1]!["currentBaseDigest"]);
        Assert.Equal(1, coverage.ExitCode);
        Assert.Contains($"{Chains.App} (linux/amd64): STALE: {Chains.Aws} has moved on ({newAws[..19]}); rebuild {Chains.Coverage}, then the images built on it\n", appTable.StdOut);
        Assert.Contains($"{Chains.Coverage} (linux/amd64): STALE: {Chains.Aws} has moved on ({newAws[..19]}); rebuild {Chains.Coverage}\n", coverage.StdOut);
    }

    [Fact]
    public async Task Stale_when_the_app_is_on_an_outdated_coverage_image()
    {
        var (aws, coverage, _) = await Chains.PushAllAsync();
        var newCoverage = await Chains.PushCoverageAsync(aws);

        var result = await CheckAsync(Chains.App, "--json");
        var table = await CheckAsync(Chains.App);

        Assert.Equal(1, result.ExitCode);
        var levels = Assert.Single(Images(result))["levels"]!.AsArray();
        Assert.Equal(["stale", "fresh"], levels.Select(l => (string)l!["status"]!));
        Assert.Equal(coverage, (string?)levels[0]!["recordedBaseDigest"]);
        Assert.Equal(newCoverage, (string?)levels[0]!["currentBaseDigest"]);
        Assert.Equal(1, table.ExitCode);
        Assert.Contains($"STALE: {Chains.Coverage} has moved on ({newCoverage[..19]}); rebuild {Chains.App}\n", table.StdOut);
    }

    [Fact]
    public async Task A_multi_platform_index_is_checked_per_platform()
    {
        var awsAmd = await Chains.PushAwsAsync("linux/amd64");
        var awsArm = await Chains.PushAwsAsync("linux/arm64");
        var pusher = new OciPusher(_http, $"http://{_target.Host}");
        await pusher.PushIndexAsync(Chains.AwsRepository, "10", [("linux/amd64", awsAmd), ("linux/arm64", awsArm)]);
        var coverageAmd = await Chains.PushCoverageAsync(awsAmd, "linux/amd64");
        var coverageArm = await Chains.PushCoverageAsync(awsArm, "linux/arm64");
        await pusher.PushIndexAsync(Chains.CoverageRepository, "10", [("linux/amd64", coverageAmd), ("linux/arm64", coverageArm)]);
        var appAmd = await Chains.PushAppAsync(coverageAmd, "linux/amd64");
        var appArm = await Chains.PushAppAsync(coverageArm, "linux/arm64");
        await pusher.PushIndexAsync(Chains.AppRepository, "1", [("linux/amd64", appAmd), ("linux/arm64", appArm)]);

        var fresh = await CheckAsync(Chains.App, "--json");
        // AWS patches arm64 only: the amd64 entry of the new index is the same image.
        var newAwsArm = await Chains.PushAwsAsync("linux/arm64");
        await pusher.PushIndexAsync(Chains.AwsRepository, "10", [("linux/amd64", awsAmd), ("linux/arm64", newAwsArm)]);
        var both = await CheckAsync(Chains.App, "--json");
        var amd64 = await CheckAsync(Chains.App, "--platform", "linux/amd64");
        var arm64 = await CheckAsync(Chains.App, "--platform", "linux/arm64", "--json");

        Assert.Equal(0, fresh.ExitCode);
        Assert.Equal(["linux/amd64", "linux/arm64"], Images(fresh).Select(i => (string)i!["platform"]!));
        Assert.Equal([appAmd, appArm], Images(fresh).Select(i => (string)i!["levels"]![0]!["digest"]!));
        Assert.Equal([awsAmd, awsArm], Images(fresh).Select(i => (string)i!["levels"]![1]!["currentBaseDigest"]!));
        Assert.Equal(1, both.ExitCode);
        Assert.Equal(["fresh", "stale"], Images(both).Select(i => (string)i!["status"]!));
        Assert.Equal(0, amd64.ExitCode);
        Assert.Contains($"{Chains.App} (linux/amd64): FRESH", amd64.StdOut);
        Assert.Equal(1, arm64.ExitCode);
        var armLevels = Assert.Single(Images(arm64))["levels"]!.AsArray();
        Assert.Equal(awsArm, (string?)armLevels[1]!["recordedBaseDigest"]);
        Assert.Equal(newAwsArm, (string?)armLevels[1]!["currentBaseDigest"]);
    }

    [Fact]
    public async Task A_base_older_than_max_age_is_flagged_even_when_current()
    {
        await Chains.PushAllAsync(awsCreated: DateTimeOffset.UtcNow.AddDays(-40));

        var old = await CheckAsync(Chains.Coverage, "--max-age", "30d", "--json");
        var young = await CheckAsync(Chains.Coverage, "--max-age", "6w");

        Assert.Equal(1, old.ExitCode);
        var level = Assert.Single(Assert.Single(Images(old))["levels"]!.AsArray())!;
        Assert.Equal("too-old", (string?)level["status"]);
        Assert.InRange((double)level["baseAgeDays"]!, 39.9, 40.1);
        Assert.Equal(0, young.ExitCode);
        Assert.Contains("40d", young.StdOut);
    }

    [Fact]
    public async Task Several_images_from_a_file_are_checked_together_and_the_worst_decides()
    {
        var (aws, _, _) = await Chains.PushAllAsync();
        await Chains.PushCoverageAsync(aws);
        var list = Path.Combine(_home, "images.txt");
        File.WriteAllText(list, $"# every function of the stack\n{Chains.Coverage}\n\n{Chains.App}   # orders\n");

        var result = await CheckAsync("--from-file", list);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{Chains.Coverage} (linux/amd64): FRESH", result.StdOut);
        Assert.Contains($"{Chains.App} (linux/amd64): STALE", result.StdOut);
    }

    [Fact]
    public async Task An_image_without_base_labels_cannot_be_checked()
    {
        await Chains.PushAwsAsync();

        var result = await CheckAsync(Chains.Aws);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            $"sl-images check: {Chains.Aws} (linux/amd64): {Chains.Aws} has no org.opencontainers.image.base.name/org.opencontainers.image.base.digest labels: it does not record its base, so there is nothing to compare (build it with the .NET SDK container build or on a Sealights coverage-ready image)",
            result.StdErr.Trim());
    }

    [Fact]
    public async Task A_coverage_image_built_without_a_resolved_base_digest_cannot_be_checked()
    {
        // images/lambda-dotnet/Dockerfile built by hand, without build.sh: BASE_DIGEST keeps its default.
        await Chains.PushAwsAsync();
        await Chains.PushCoverageAsync("unknown");

        var result = await CheckAsync(Chains.Coverage);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            $"sl-images check: {Chains.Coverage} (linux/amd64): {Chains.Coverage}'s org.opencontainers.image.base.digest label 'unknown' is not a digest: its base was not recorded",
            result.StdErr.Trim());
    }

    [Fact]
    public async Task A_malformed_reference_is_one_line_and_nothing_is_asked()
    {
        var result = await CheckAsync("localhost:5000/Orders:1", "--json");
        var tag = await CheckAsync("localhost:5000/orders:bad:tag!");
        var none = await CheckAsync();
        var age = await CheckAsync(Chains.App, "--max-age", "soon");
        var platform = await CheckAsync(Chains.App, "--platform", "amd64");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("sl-images check: 'localhost:5000/Orders:1' (argument 1) is not an image reference: 'Orders' is not a repository name (lowercase letters, digits, separators)", result.StdErr.Trim());
        Assert.Equal("", result.StdOut);
        Assert.Equal(2, tag.ExitCode);
        Assert.Single(tag.StdErr.Trim().Split('\n'));
        Assert.Equal("sl-images check: no image given (expected image references as arguments or --from-file FILE)", none.StdErr.Trim());
        Assert.Equal(2, none.ExitCode);
        Assert.Equal("sl-images check: --max-age 'soon' is not an age (expected a number and a unit: 30d, 12h, 90m, 2w)", age.StdErr.Trim());
        Assert.Equal(2, age.ExitCode);
        Assert.StartsWith("sl-images check: --platform 'amd64' is not a platform", platform.StdErr);
        Assert.Equal(2, platform.ExitCode);
        Assert.All(new[] { result, tag, none, age, platform }, r => Assert.DoesNotContain("   at ", r.Output));
    }

    [Fact]
    public async Task A_registry_that_is_down_is_a_registry_error()
    {
        var port = FreePorts.Next();

        var result = await CheckAsync($"127.0.0.1:{port}/orders:1");

        Assert.Equal(3, result.ExitCode);
        Assert.Equal($"sl-images check: 127.0.0.1:{port}/orders:1 (-): cannot reach 127.0.0.1:{port}: Connection refused (127.0.0.1:{port})", result.StdErr.Trim());
        Assert.DoesNotContain("   at ", result.Output);
    }

    [Fact]
    public async Task Plain_HTTP_off_loopback_names_only_with_insecure_registry()
    {
        await Chains.PushAllAsync();
        // 127.0.0.1 written as one decimal number: a registry name that is not a loopback name,
        // reaching the local plain-HTTP registry (traffic stays on loopback).
        var port = _target.Host.Split(':')[1];
        var host = $"2130706433:{port}";
        var image = $"{host}/{Chains.AppRepository}:1";

        var refused = await CheckAsync(image);
        var allowed = await CheckAsync(image, "--insecure-registry", host);

        Assert.Equal(3, refused.ExitCode);
        Assert.StartsWith($"sl-images check: {image} (-): cannot reach {host}: ", refused.StdErr);
        Assert.EndsWith($" (no TLS handshake: if it is a plain-HTTP registry, allow that with --insecure-registry {host})", refused.StdErr.Trim());
        Assert.Equal(0, allowed.ExitCode);
        Assert.Contains($"{image} (linux/amd64): FRESH", allowed.StdOut);
    }

    [Fact]
    public async Task A_missing_image_and_a_missing_platform_are_registry_errors()
    {
        await Chains.PushAllAsync();

        var missing = await CheckAsync($"{_target.Host}/{_target.Namespace}/nothing:1");
        var platform = await CheckAsync(Chains.App, "--platform", "linux/arm64");

        Assert.Equal(3, missing.ExitCode);
        Assert.Contains($"{_target.Host}/{_target.Namespace}/nothing:1 not found", missing.StdErr);
        Assert.Equal(3, platform.ExitCode);
        Assert.Contains($"{Chains.App} is a single amd64 image, not linux/arm64", platform.StdErr);
    }

    [Fact]
    public async Task Help_shows_an_example_and_the_exit_codes()
    {
        var result = await CheckAsync("--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Example:", result.StdOut);
        Assert.Contains("sl-images check --from-file images.txt --json", result.StdOut);
        Assert.Contains("Exit codes: 0 all fresh, 1 stale", result.StdOut);
    }

    private static List<JsonNode> Images(ProcessResult result) => JsonNode.Parse(result.StdOut)!["images"]!.AsArray().Select(n => n!).ToList();

    private Task<ProcessResult> CheckAsync(params string[] arguments) => CheckAsync(new Dictionary<string, string>(), arguments);

    /// <summary>The CLI as a process; DOCKER_CONFIG points at an empty folder unless the test gives one.</summary>
    private async Task<ProcessResult> CheckAsync(Dictionary<string, string> environment, params string[] arguments)
    {
        environment.TryAdd("DOCKER_CONFIG", _home);
        var result = await ProcessRunner.RunAsync("dotnet", [Cli, "check", .. arguments], TimeSpan.FromMinutes(1), environment: environment);
        output.WriteLine($"$ sl-images check {string.Join(' ', arguments)}  -> exit {result.ExitCode}\n{result.StdOut}{result.StdErr}");
        return result;
    }
}
