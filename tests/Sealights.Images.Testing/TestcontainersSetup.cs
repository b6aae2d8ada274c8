using Docker.DotNet;
using Docker.DotNet.Models;
using DotNet.Testcontainers.Configurations;

namespace Sealights.Images.Testing;

/// <summary>
/// Testcontainers as this machine needs it, set before its first use (it reads its configuration
/// once, when its settings class loads): no Ryuk, and a Docker API version the engine speaks.
/// </summary>
internal static class TestcontainersSetup
{
    /// <summary>What Testcontainers asks for unless DOCKER_API_VERSION says otherwise (Docker 25's API).</summary>
    private static readonly System.Version TestcontainersDefault = new(1, 44);

    private static readonly Lazy<Task<DockerClient>> Ready = new(ConfigureAsync);

    /// <summary>Configures Testcontainers once; returns a client of the engine for what it does not do.</summary>
    public static Task<DockerClient> EnsureAsync() => Ready.Value;

    /// <summary>
    /// docker rm --force --volumes. With Ryuk off, Testcontainers' dispose only stops a container
    /// (gracefully, and leaves it behind), so its owner removes it: at once, as a test is done with it.
    /// </summary>
    public static async Task RemoveContainerAsync(string name)
    {
        var client = await EnsureAsync();
        try
        {
            await client.Containers.RemoveContainerAsync(name, new ContainerRemoveParameters { Force = true, RemoveVolumes = true });
        }
        catch (DockerContainerNotFoundException)
        {
            // Never created (the start failed before), or already removed.
        }
    }

    private static async Task<DockerClient> ConfigureAsync()
    {
        // First: Testcontainers reads DOCKER_API_VERSION once, as its settings load.
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_API_VERSION")))
        {
            // An older engine (Debian's docker.io 20.10: API 1.41) refuses 1.44; Docker.DotNet does not
            // negotiate, so it is told the engine's own version, as the docker CLI would negotiate it.
            var reported = (await DockerCli.RunAsync(["version", "--format", "{{.Server.APIVersion}}"])).EnsureSuccess("docker version").StdOut.Trim();
            if (System.Version.Parse(reported) < TestcontainersDefault)
            {
                Environment.SetEnvironmentVariable("DOCKER_API_VERSION", reported);
            }
        }
        // Ryuk's image cannot be pulled here (no Docker Hub); the owners remove their containers and
        // the run's sweep (scripts/test-leftovers.sh) finds them by the run's label if a process dies.
        TestcontainersSettings.ResourceReaperEnabled = false;
        return TestcontainersSettings.OS.DockerEndpointAuthConfig.GetDockerClientBuilder().Build();
    }
}
