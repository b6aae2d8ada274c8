namespace Sealights.Images.Testing;

/// <summary>
/// The real Docker engine through its CLI (Docker.DotNet is not on the package mirror).
/// Containers always use the host network: this machine has no bridge.
/// </summary>
public static class DockerCli
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    public static Task<ProcessResult> RunAsync(IEnumerable<string> arguments, TimeSpan? timeout = null, string? stdIn = null) =>
        ProcessRunner.RunAsync("docker", arguments, timeout ?? DefaultTimeout, stdIn: stdIn);

    public static async Task BuildAsync(string contextDirectory, string tag, IReadOnlyDictionary<string, string>? buildArgs = null)
    {
        var arguments = new List<string> { "build", "--network", "host", "--quiet", "--tag", tag };
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
