using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Sealights.Images.Cli.Registry;

/// <summary>A user name and secret for a registry, and where they came from (for messages; never the values).</summary>
/// <param name="IdentityToken">True when <see cref="Secret"/> is an OAuth2 refresh token (Docker's <c>identitytoken</c>, a helper's <c>&lt;token&gt;</c> user).</param>
public sealed record RegistryCredential(string Username, string Secret, bool IdentityToken, string Source);

/// <summary>
/// Registry credentials as the Docker CLI finds them: <c>$DOCKER_CONFIG/config.json</c> (else
/// <c>~/.docker/config.json</c>); <c>credHelpers[host]</c>, else <c>credsStore</c>, run as
/// <c>docker-credential-NAME get</c> with the server on standard input (so ECR's helper works);
/// else the base64 <c>user:password</c> of <c>auths[host].auth</c>. No file means anonymous.
/// </summary>
public sealed class DockerCredentials(string? configFile)
{
    /// <summary>Docker Hub's key in config.json (what <c>docker login</c> writes for it).</summary>
    private const string DockerHubKey = "https://index.docker.io/v1/";

    private readonly Dictionary<string, RegistryCredential?> _cache = new(StringComparer.OrdinalIgnoreCase);
    private JsonDocument? _config;
    private bool _loaded;

    public static DockerCredentials FromEnvironment()
    {
        var directory = Environment.GetEnvironmentVariable("DOCKER_CONFIG");
        if (string.IsNullOrEmpty(directory))
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            directory = string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".docker");
        }
        return new DockerCredentials(directory is null ? null : Path.Combine(directory, "config.json"));
    }

    public string? ConfigFile => configFile;

    /// <summary>The credential for a registry host (e.g. <c>localhost:5000</c>), or null for anonymous access.</summary>
    public async Task<RegistryCredential?> ForRegistryAsync(string registry, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(registry, out var cached))
        {
            return cached;
        }
        var credential = await LookUpAsync(registry, cancellationToken);
        _cache[registry] = credential;
        return credential;
    }

    private async Task<RegistryCredential?> LookUpAsync(string registry, CancellationToken cancellationToken)
    {
        if (Load() is not { } root)
        {
            return null;
        }
        var serverKey = registry == ImageReference.DockerHub ? DockerHubKey : registry;
        if (root.TryGetProperty("credHelpers", out var helpers) && helpers.ValueKind == JsonValueKind.Object
            && FindEntry(helpers, registry) is { ValueKind: JsonValueKind.String } helper && helper.GetString() is { Length: > 0 } helperName)
        {
            return await RunHelperAsync(helperName, serverKey, "credHelpers", cancellationToken);
        }
        if (root.TryGetProperty("credsStore", out var store) && store.GetString() is { Length: > 0 } storeName
            && await RunHelperAsync(storeName, serverKey, "credsStore", cancellationToken) is { } stored)
        {
            return stored;
        }
        if (root.TryGetProperty("auths", out var auths) && auths.ValueKind == JsonValueKind.Object
            && FindEntry(auths, registry) is { ValueKind: JsonValueKind.Object } entry)
        {
            if (entry.TryGetProperty("identitytoken", out var identity) && identity.GetString() is { Length: > 0 } refreshToken)
            {
                return new RegistryCredential("", refreshToken, IdentityToken: true, $"{configFile} (auths)");
            }
            if (entry.TryGetProperty("auth", out var auth) && auth.GetString() is { Length: > 0 } encoded)
            {
                return DecodeAuth(encoded);
            }
        }
        return null;
    }

    private JsonElement? Load()
    {
        if (!_loaded)
        {
            _loaded = true;
            if (configFile is not null && File.Exists(configFile))
            {
                try
                {
                    _config = JsonDocument.Parse(File.ReadAllBytes(configFile));
                }
                catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
                {
                    throw new RegistryException($"cannot read the Docker config {configFile}: {e.Message}");
                }
            }
        }
        return _config?.RootElement.ValueKind == JsonValueKind.Object ? _config.RootElement : null;
    }

    /// <summary>The entry whose key names this host: keys may carry a scheme and a path (<c>https://host/v1/</c>).</summary>
    private static JsonElement? FindEntry(JsonElement map, string registry)
    {
        foreach (var property in map.EnumerateObject())
        {
            if (string.Equals(HostOf(property.Name), Canonical(registry), StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }
        return null;
    }

    private static string HostOf(string key)
    {
        var host = key;
        var scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            host = host[(scheme + 3)..];
        }
        var slash = host.IndexOf('/');
        return Canonical(slash >= 0 ? host[..slash] : host);
    }

    /// <summary>Docker Hub goes by several names; its credentials are filed under index.docker.io.</summary>
    private static string Canonical(string host) =>
        host is ImageReference.DockerHub or "docker.io" or "registry.hub.docker.com" ? "index.docker.io" : host;

    private RegistryCredential DecodeAuth(string encoded)
    {
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            throw new RegistryException($"the 'auth' entry in {configFile} is not base64 user:password");
        }
        var colon = text.IndexOf(':');
        if (colon <= 0)
        {
            throw new RegistryException($"the 'auth' entry in {configFile} is not base64 user:password");
        }
        return new RegistryCredential(text[..colon], text[(colon + 1)..], IdentityToken: false, $"{configFile} (auths)");
    }

    /// <summary>
    /// The credential-helper protocol: <c>get</c>, the server on standard input, JSON
    /// <c>{"Username","Secret"}</c> on standard output; "credentials not found" means none.
    /// </summary>
    private async Task<RegistryCredential?> RunHelperAsync(string name, string server, string from, CancellationToken cancellationToken)
    {
        var program = "docker-credential-" + name;
        var startInfo = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("get");
        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new RegistryException($"cannot start {program}");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new RegistryException($"the credential helper {program} ({from} in {configFile}) is not on PATH");
        }
        using (process)
        {
            await process.StandardInput.WriteAsync(server);
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new RegistryException($"the credential helper {program} did not answer within 30 s");
            }
            var output = await stdout;
            var errors = await stderr;
            if (process.ExitCode != 0)
            {
                if ((output + errors).Contains("credentials not found", StringComparison.OrdinalIgnoreCase))
                {
                    return null;
                }
                // The helper's own message, first line only: helpers do not print secrets on failure.
                var why = (output + "\n" + errors).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
                throw new RegistryException($"the credential helper {program} failed for {server} (exit {process.ExitCode}): {why}");
            }
            try
            {
                using var answer = JsonDocument.Parse(output);
                var username = answer.RootElement.GetProperty("Username").GetString() ?? "";
                var secret = answer.RootElement.GetProperty("Secret").GetString() ?? "";
                return new RegistryCredential(username, secret, IdentityToken: username == "<token>", program);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new RegistryException($"the credential helper {program} answered something other than {{\"Username\",\"Secret\"}}");
            }
        }
    }
}
