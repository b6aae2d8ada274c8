using System.Diagnostics;
using DotNet.Testcontainers.Containers;
using Sealights.Images.IntegrationTests.Infrastructure;
using Sealights.Images.Testing;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// The function container helper on Testcontainers with Ryuk off: the host network and the run's
/// label on every container, the docker run flags the callers pass, the stop's grace, and every
/// way out of a container removes it.
/// </summary>
[Collection(StandInCollection.Name)]
public sealed class LambdaContainerTests(StandInFixture images)
{
    [Fact]
    public async Task A_function_container_runs_on_the_host_network_with_the_run_label_and_its_flags_and_is_removed_after_its_logs_were_read()
    {
        var directory = Directory.CreateTempSubdirectory("sl-it-flags-").FullName;
        try
        {
            var container = await LambdaContainer.StartAsync(
                images.SampleImage10, extraRunArguments: ["--volume", $"{directory}:/sl-out", "--tmpfs", "/tmp:size=4m", "--cpus", "1.5"]);
            await using (container)
            {
                Assert.Equal(
                    $"host {TestRun.Id} 1500000000 map[/tmp:size=4m] {directory}:/sl-out",
                    await DockerCli.InspectAsync(
                        container.Name,
                        $"{{{{.HostConfig.NetworkMode}}}} {{{{index .Config.Labels \"{TestRun.LabelKey}\"}}}} {{{{.HostConfig.NanoCpus}}}} {{{{.HostConfig.Tmpfs}}}} {{{{range .Mounts}}}}{{{{.Source}}}}:{{{{.Destination}}}}{{{{end}}}}"));
                Assert.Equal(200, (await container.InvokeAsync("""{"action":"echo","message":"x"}""")).StatusCode);
                await container.StopAsync();
                Assert.Equal(0, await container.WaitForExitAsync(TimeSpan.FromSeconds(10)));
                // The REPORT StopAsync waited for (stdout) and the emulator's startup line (stderr).
                var logs = await container.LogsAsync();
                Assert.Contains("REPORT RequestId:", logs);
                Assert.Contains($"Invoke endpoint: http://127.0.0.1:{container.InvokePort}/", logs);
            }

            Assert.Empty(await ContainersNamedAsync(container.Name));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task The_stop_sends_SIGTERM_then_SIGKILL_after_the_grace_period_given()
    {
        // PID 1 ignores SIGTERM and the emulator, its child, never gets it: only the SIGKILL after the grace ends them.
        var image = await ImageBuilder.BuildAsync(images.SampleImage10, [new ImageFile(
            "/lambda-entrypoint.sh", "#!/bin/bash\nexport _HANDLER=\"$1\"\ntrap '' TERM\n/usr/local/bin/aws-lambda-rie /var/runtime/bootstrap &\nwait\n", Executable: true)]);
        await using var container = await LambdaContainer.StartAsync(image);

        var stopping = Stopwatch.StartNew();
        await container.StopAsync(graceSeconds: 2);

        // Not the engine's default of 10 s.
        Assert.InRange(stopping.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));
        Assert.Equal(137, await container.WaitForExitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_container_that_exits_before_listening_fails_the_start_with_its_log_and_is_removed()
    {
        var image = await ImageBuilder.BuildAsync(
            images.SampleImage10, [new ImageFile("/lambda-entrypoint.sh", "#!/bin/sh\necho 'no emulator today'\nexit 3\n", Executable: true)]);

        var failure = await Assert.ThrowsAsync<ContainerNotRunningException>(() => LambdaContainer.StartAsync(image));

        Assert.Contains("no emulator today", failure.Message);
        Assert.Empty((await DockerCli.RunAsync(["ps", "--all", "--quiet", "--filter", $"ancestor={image}"])).EnsureSuccess("docker ps").StdOut.Trim());
    }

    private static async Task<string> ContainersNamedAsync(string name) =>
        (await DockerCli.RunAsync(["ps", "--all", "--quiet", "--filter", $"name=^{name}$"])).EnsureSuccess("docker ps").StdOut.Trim();
}
