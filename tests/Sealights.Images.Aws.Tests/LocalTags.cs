using Sealights.Images.Testing;

namespace Sealights.Images.Aws.Tests;

/// <summary>Removes, when disposed, the local Docker tags and digest references under a test's own repository prefix (the
/// layers stay while other images use them; the registry keeps what was pushed, as in other tests).</summary>
public sealed class LocalTags(string prefix) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        // Digest references too: a build FROM name@digest (build.sh pins its base so) pulls one,
        // which `docker images` shows as a <none> row once the tags are gone.
        var listed = await DockerCli.RunAsync(["images", "--digests", "--format", "{{.Repository}}:{{.Tag}}\n{{.Repository}}@{{.Digest}}"], TimeSpan.FromMinutes(1));
        var tags = listed.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(t => t.StartsWith(prefix + "/", StringComparison.Ordinal) && !t.EndsWith(":<none>", StringComparison.Ordinal) && !t.EndsWith("@<none>", StringComparison.Ordinal))
            .Distinct()
            .ToList();
        if (tags.Count > 0)
        {
            await DockerCli.RunAsync(["rmi", "--force", .. tags], TimeSpan.FromMinutes(2));
        }
    }
}
