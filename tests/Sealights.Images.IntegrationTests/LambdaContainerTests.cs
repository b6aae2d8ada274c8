using DotNet.Testcontainers.Containers;
using Sealights.Images.IntegrationTests.Infrastructure;
using Sealights.Images.Testing;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// The function container helper on Testcontainers with Ryuk off: the tests clean up by
/// themselves, so every way out of a container must remove it.
/// </summary>
[Collection(StandInCollection.Name)]
public sealed class LambdaContainerTests(StandInFixture images)
{
    [Fact]
    public async Task Disposing_removes_a_stopped_container_whose_logs_were_read()
    {
        var container = await LambdaContainer.StartAsync(images.SampleImage10);
        await using (container)
        {
            Assert.Equal(200, (await container.InvokeAsync("""{"action":"echo","message":"x"}""")).StatusCode);
            await container.StopAsync();
            Assert.Equal(0, await container.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            Assert.Contains($"Invoke endpoint: http://127.0.0.1:{container.InvokePort}/", await container.LogsAsync());
            Assert.Equal("exited", await DockerCli.InspectAsync(container.Name, "{{.State.Status}}"));
        }

        Assert.Empty(await ContainersNamedAsync(container.Name));
    }

    [Fact]
    public async Task Disposing_removes_a_running_container_at_once()
    {
        var container = await LambdaContainer.StartAsync(images.SampleImage10);
        var started = DateTime.UtcNow;
        await container.DisposeAsync();

        // Killed, not stopped with the 10 s grace of docker stop.
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(8));
        Assert.Empty(await ContainersNamedAsync(container.Name));
    }

    [Fact]
    public async Task A_container_that_exits_before_listening_fails_the_start_with_its_log_and_is_removed()
    {
        var image = await ImageBuilder.BuildAsync(
            images.SampleImage10, [new ImageFile("/lambda-entrypoint.sh", "#!/bin/sh\necho 'no emulator today'\nexit 3\n", Executable: true)]);

        var failure = await Assert.ThrowsAsync<ContainerNotRunningException>(() => LambdaContainer.StartAsync(image));

        Assert.Contains("exited with code 3", failure.Message);
        Assert.Contains("no emulator today", failure.Message);
        Assert.Empty((await DockerCli.RunAsync(["ps", "--all", "--quiet", "--filter", $"ancestor={image}"])).EnsureSuccess("docker ps").StdOut.Trim());
    }

    private static async Task<string> ContainersNamedAsync(string name) =>
        (await DockerCli.RunAsync(["ps", "--all", "--quiet", "--filter", $"name=^{name}$"])).EnsureSuccess("docker ps").StdOut.Trim();
}
