using Sealights.Images.Testing;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// The value images/lambda-dotnet/build.sh gives the coverage-ready image's
/// org.opencontainers.image.source label (images/lambda-dotnet/source-url.sh, run in real git
/// clones): a public URL or nothing, never a path on the build machine or a token.
/// </summary>
public sealed class ImageSourceLabelTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sl-source-url-").FullName;

    [Fact]
    public async Task A_clone_of_a_local_checkout_gives_no_source_label()
    {
        var origin = await NewRepositoryAsync("origin");
        var clone = Path.Combine(_directory, "clone");
        await GitAsync(_directory, "clone", "--quiet", origin, clone);
        Assert.Equal(origin, (await GitAsync(clone, "config", "--get", "remote.origin.url")).Trim());

        var result = await SourceUrlAsync(clone);

        Assert.Equal((0, ""), (result.ExitCode, result.StdOut));
        Assert.DoesNotContain(_directory, result.Output);
    }

    [Fact]
    public async Task A_repository_without_a_remote_gives_no_source_label()
    {
        var repository = await NewRepositoryAsync("no-remote");

        var result = await SourceUrlAsync(repository);

        Assert.Equal((0, ""), (result.ExitCode, result.StdOut));
    }

    [Theory]
    [InlineData("https://github.com/acme/sealights-images.git", "https://github.com/acme/sealights-images.git")]
    [InlineData("https://ci-bot:ghp_secret123@github.com/acme/sealights-images.git", "https://github.com/acme/sealights-images.git")]
    [InlineData("file:///srv/git/sealights-images.git", "")]
    [InlineData("git@github.com:acme/sealights-images.git", "")]
    [InlineData("https://127.0.0.1:3000/acme/sealights-images.git", "")]
    public async Task An_https_remote_is_the_source_without_its_user_info_and_other_remotes_give_none(string remote, string expected)
    {
        var repository = await NewRepositoryAsync("remote");
        await GitAsync(repository, "remote", "add", "origin", remote);

        var result = await SourceUrlAsync(repository);

        Assert.Equal((0, expected), (result.ExitCode, result.StdOut.Trim()));
    }

    [Fact]
    public async Task SL_SOURCE_URL_names_the_source_even_for_a_clone_without_a_remote()
    {
        var repository = await NewRepositoryAsync("given");

        var given = await SourceUrlAsync(repository, "https://github.com/sealights/sealights-images");
        var local = await SourceUrlAsync(repository, repository);

        Assert.Equal((0, "https://github.com/sealights/sealights-images"), (given.ExitCode, given.StdOut.Trim()));
        Assert.Equal((2, ""), (local.ExitCode, local.StdOut));
        Assert.Contains("must be a public https:// URL", local.StdErr);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<string> NewRepositoryAsync(string name)
    {
        var path = Path.Combine(_directory, name);
        await GitAsync(_directory, "init", "--quiet", path);
        return path;
    }

    private static async Task<ProcessResult> SourceUrlAsync(string clone, string sourceUrl = "") =>
        await ProcessRunner.RunAsync(
            "bash",
            [RepositoryPaths.Combine("images", "lambda-dotnet", "source-url.sh")],
            TimeSpan.FromSeconds(30),
            workingDirectory: clone,
            environment: new Dictionary<string, string> { ["SL_SOURCE_URL"] = sourceUrl });

    private static async Task<string> GitAsync(string workingDirectory, params string[] arguments) =>
        (await ProcessRunner.RunAsync("git", arguments, TimeSpan.FromSeconds(30), workingDirectory: workingDirectory))
            .EnsureSuccess("git " + string.Join(' ', arguments)).StdOut;
}
