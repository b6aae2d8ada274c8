using Sealights.Images.Testing;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// scripts/test-leftovers.sh on the real engine, for runs of its own (ids unlike this process's):
/// it removes exactly what one run made (labelled containers and images, recorded pulls), leaves
/// other runs' images alone, and fails, listing it, when something of the run cannot go.
/// </summary>
public sealed class TestRunSweepTests : IAsyncLifetime
{
    private readonly string _run = $"sweep-test-{Guid.NewGuid():N}"[..20];
    private readonly string _otherRun = $"sweep-other-{Guid.NewGuid():N}"[..21];
    private readonly string _context = Directory.CreateTempSubdirectory("sl-sweep-").FullName;
    private readonly List<string> _made = [];

    [Fact]
    public async Task The_sweep_removes_the_runs_containers_images_and_pulls_and_nothing_of_another_run()
    {
        var image = await BuildAsync($"sl-it/sweep-test:{_run}", "FROM scratch", _run);
        var child = await BuildAsync($"sl-it/sweep-test:{_run}-child", $"FROM {image}", _run);
        var container = (await DockerAsync("create", "--label", $"{TestRun.LabelKey}={_run}", child, "/none")).Trim();
        var pulled = await BuildAsync($"{StandInImages.Registry}/it/sweep-test:{_run}", "FROM scratch", label: null);
        await File.WriteAllTextAsync(LedgerOf(_run), pulled + "\n");
        var other = await BuildAsync($"sl-it/sweep-test:{_otherRun}", "FROM scratch", _otherRun);

        var sweep = await SweepAsync(_run);

        Assert.True(sweep.ExitCode == 0, sweep.Output);
        // Image counts include the legacy builder's intermediate images: only the container's is exact.
        Assert.Matches($@"test run {_run}: removed 1 container\(s\) and [3-9] image\(s\) it made", sweep.StdOut);
        foreach (var gone in new[] { image, child, container, pulled })
        {
            Assert.False(await ExistsAsync(gone), $"{gone} is still there after the sweep");
        }
        Assert.True(await ExistsAsync(other), "the sweep removed another run's image");
        Assert.False(File.Exists(LedgerOf(_run)));
    }

    [Fact]
    public async Task An_image_of_the_run_that_cannot_go_fails_the_sweep_and_is_listed()
    {
        // Another run built on this run's image: the engine refuses to remove a parent.
        var image = await BuildAsync($"sl-it/sweep-test:{_run}", "FROM scratch", _run);
        var id = (await DockerAsync("image", "inspect", "--format", "{{.Id}}", image)).Trim();
        await BuildAsync($"sl-it/sweep-test:{_otherRun}-child", $"FROM {image}", _otherRun);

        var sweep = await SweepAsync(_run);

        Assert.Equal(1, sweep.ExitCode);
        Assert.Contains($"LEFTOVERS of test run {_run}", sweep.StdErr);
        Assert.Contains(id, sweep.StdErr);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _made.Reverse();
        foreach (var tag in _made)
        {
            await ProcessRunner.RunAsync("docker", ["rmi", "--force", tag], TimeSpan.FromSeconds(30));
        }
        File.Delete(LedgerOf(_run));
        Directory.Delete(_context, recursive: true);
    }

    private async Task<string> BuildAsync(string tag, string from, string? label)
    {
        await File.WriteAllTextAsync(Path.Combine(_context, "marker"), tag);
        await File.WriteAllTextAsync(Path.Combine(_context, "Dockerfile"), $"{from}\nCOPY marker /marker\n");
        List<string> arguments = ["build", "--quiet", "--tag", tag];
        if (label is not null)
        {
            arguments.AddRange(["--label", $"{TestRun.LabelKey}={label}"]);
        }
        await DockerAsync([.. arguments, _context]);
        _made.Add(tag);
        return tag;
    }

    private static string LedgerOf(string run)
    {
        var ledger = Path.Combine(RepositoryPaths.Artifacts, "test-runs", run + ".pulled");
        Directory.CreateDirectory(Path.GetDirectoryName(ledger)!);
        return ledger;
    }

    private static async Task<ProcessResult> SweepAsync(string run) =>
        await ProcessRunner.RunAsync("bash", [RepositoryPaths.Combine("scripts", "test-leftovers.sh"), run], TimeSpan.FromMinutes(2));

    private static async Task<bool> ExistsAsync(string target) =>
        (await ProcessRunner.RunAsync("docker", ["inspect", target], TimeSpan.FromSeconds(30))).ExitCode == 0;

    private static async Task<string> DockerAsync(params string[] arguments) =>
        (await ProcessRunner.RunAsync("docker", arguments, TimeSpan.FromMinutes(2))).EnsureSuccess("docker " + string.Join(' ', arguments)).StdOut;
}
