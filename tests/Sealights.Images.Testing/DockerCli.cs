namespace Sealights.Images.Testing;

/// <summary>
/// The real Docker engine through its CLI: builds, pulls, inspections and one-shot containers
/// (function containers run on Testcontainers: <see cref="LambdaContainer"/>). Containers always
/// use the host network: this machine has no bridge. Every container and image made through it
/// carries the run's label, and every image pulled through it is recorded, so the run removes them
/// at its end (<see cref="TestRun"/>).
/// </summary>
public static class DockerCli
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    public static async Task<ProcessResult> RunAsync(IEnumerable<string> arguments, TimeSpan? timeout = null, string? stdIn = null)
    {
        var list = arguments.ToList();
        if (list is ["run" or "create" or "build", ..])
        {
            list.InsertRange(1, ["--label", TestRun.Label]);
        }
        var result = await ProcessRunner.RunAsync("docker", list, timeout ?? DefaultTimeout, stdIn: stdIn);
        if (list is ["pull", .., var reference] && result.ExitCode == 0)
        {
            TestRun.RecordPulled(reference);
        }
        return result;
    }

    /// <param name="platform">e.g. linux/arm64 (built through QEMU); null: the engine's own.</param>
    public static async Task BuildAsync(string contextDirectory, string tag, IReadOnlyDictionary<string, string>? buildArgs = null, string? platform = null)
    {
        var arguments = new List<string> { "build", "--network", "host", "--quiet", "--tag", tag };
        if (platform is not null)
        {
            arguments.AddRange(["--platform", platform]);
        }
        foreach (var (key, value) in buildArgs ?? new Dictionary<string, string>())
        {
            arguments.AddRange(["--build-arg", $"{key}={value}"]);
        }
        arguments.Add(contextDirectory);
        (await RunAsync(arguments)).EnsureSuccess($"docker build {tag}");
    }

    public static async Task<string> InspectAsync(string target, string format) =>
        (await RunAsync(["inspect", "--format", format, target])).EnsureSuccess($"docker inspect {target}").StdOut.Trim();

    public static async Task RemoveContainerAsync(string name) =>
        await RunAsync(["rm", "--force", "--volumes", name], TimeSpan.FromSeconds(30));
}
