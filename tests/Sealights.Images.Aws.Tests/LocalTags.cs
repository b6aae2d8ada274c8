using Sealights.Images.Testing;

namespace Sealights.Images.Aws.Tests;

/// <summary>Removes, when disposed, the local Docker tags under a test's own repository prefix (the
/// layers stay while other images use them; the registry keeps what was pushed, as in other tests).</summary>
public sealed class LocalTags(string prefix) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        var listed = await DockerCli.RunAsync(["images", "--format", "{{.Repository}}:{{.Tag}}"], TimeSpan.FromMinutes(1));
        var tags = listed.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(t => t.StartsWith(prefix + "/", StringComparison.Ordinal))
            .ToList();
        if (tags.Count > 0)
        {
            await DockerCli.RunAsync(["rmi", "--force", .. tags], TimeSpan.FromMinutes(2));
        }
    }
}
