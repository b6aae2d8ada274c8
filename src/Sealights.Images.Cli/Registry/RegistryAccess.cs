namespace Sealights.Images.Cli.Registry;

/// <summary>How registries may be reached: credentials, and which ones may be spoken to over plain HTTP.</summary>
public sealed class RegistryAccess(DockerCredentials? credentials = null, IEnumerable<string>? insecureRegistries = null)
{
    private readonly HashSet<string> _insecure = new(insecureRegistries ?? [], StringComparer.OrdinalIgnoreCase);

    public DockerCredentials Credentials { get; } = credentials ?? DockerCredentials.FromEnvironment();

    /// <summary>Loopback registries (as the .NET SDK and Docker allow) and those named with --insecure-registry.</summary>
    public bool AllowsPlainHttp(string registry) => IsLoopback(registry) || _insecure.Contains(registry);

    public static bool IsLoopback(string registry)
    {
        var host = registry.StartsWith('[') ? registry[..(registry.IndexOf(']') + 1)] : registry.Split(':')[0];
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.StartsWith("127.", StringComparison.Ordinal) || host == "[::1]";
    }
}
