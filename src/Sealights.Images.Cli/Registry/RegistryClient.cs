using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Sealights.Images.Cli.Registry;

/// <summary>What a registry says about one platform's image.</summary>
/// <param name="ManifestDigest">The per-platform manifest's digest (what the SDK records as base.digest).</param>
/// <param name="IndexDigest">The digest of the multi-platform index the tag points to, if it is one.</param>
public sealed record PlatformImage(
    ImageReference Reference,
    string Platform,
    string ManifestDigest,
    string? IndexDigest,
    string ConfigDigest,
    DateTimeOffset? Created,
    IReadOnlyDictionary<string, string> Labels);

public sealed class RegistryException(string message, bool notFound = false) : Exception(message)
{
    /// <summary>The registry answered 404: the image (or the digest asked for) is not there.</summary>
    public bool NotFound { get; } = notFound;
}

/// <summary>
/// The OCI distribution API, read-only: manifest (index → platform) and config blob. HTTPS, except
/// for loopback registries and those given as insecure (<see cref="RegistryAccess"/>), which are tried
/// over HTTPS first and spoken to over plain HTTP when they do not speak TLS (as Docker does).
/// A 401 is answered as the distribution spec says: a Bearer challenge is followed to its token
/// realm (anonymously, or with the Docker credentials for the host), a Basic one with the credentials.
/// </summary>
public sealed class RegistryClient(HttpClient http, RegistryAccess? access = null)
{
    private static readonly string[] ManifestTypes =
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ];

    private readonly RegistryAccess _access = access ?? new RegistryAccess();
    private readonly Dictionary<string, Task<string>> _schemes = new(StringComparer.OrdinalIgnoreCase);
    private RegistryAuthenticator? _authenticator;

    private RegistryAuthenticator Authenticator => _authenticator ??= new RegistryAuthenticator(http, _access.Credentials);

    public async Task<PlatformImage> InspectAsync(ImageReference image, string platform, CancellationToken cancellationToken)
    {
        var (os, architecture) = SplitPlatform(platform);
        var (mediaType, digest, body) = await GetManifestAsync(image, image.Reference, cancellationToken);
        string? indexDigest = null;
        using var document = JsonDocument.Parse(body);
        var manifest = document.RootElement;
        if (IsIndex(mediaType, manifest))
        {
            indexDigest = digest;
            var entry = manifest.GetProperty("manifests").EnumerateArray().FirstOrDefault(m =>
                m.TryGetProperty("platform", out var p)
                && p.GetProperty("os").GetString() == os
                && p.GetProperty("architecture").GetString() == architecture);
            if (entry.ValueKind != JsonValueKind.Object)
            {
                throw new RegistryException($"{image} has no {platform} image");
            }
            digest = entry.GetProperty("digest").GetString()!;
            (_, _, body) = await GetManifestAsync(image, digest, cancellationToken);
        }
        using var platformManifest = JsonDocument.Parse(body);
        var configDigest = platformManifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!;
        using var config = await GetAsync(image, $"blobs/{configDigest}", [], cancellationToken);
        using var configDocument = JsonDocument.Parse(await config.Content.ReadAsByteArrayAsync(cancellationToken));
        var root = configDocument.RootElement;
        var configArchitecture = root.TryGetProperty("architecture", out var a) ? a.GetString() : null;
        if (indexDigest is null && configArchitecture is not null && configArchitecture != architecture)
        {
            throw new RegistryException($"{image} is a single {configArchitecture} image, not {platform}");
        }
        DateTimeOffset? created = root.TryGetProperty("created", out var c) && c.TryGetDateTimeOffset(out var when) ? when : null;
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (root.TryGetProperty("config", out var imageConfig) && imageConfig.TryGetProperty("Labels", out var labelObject) && labelObject.ValueKind == JsonValueKind.Object)
        {
            foreach (var label in labelObject.EnumerateObject())
            {
                labels[label.Name] = label.Value.GetString() ?? "";
            }
        }
        return new PlatformImage(image, platform, digest, indexDigest, configDigest, created, labels);
    }

    private async Task<(string MediaType, string Digest, byte[] Body)> GetManifestAsync(ImageReference image, string reference, CancellationToken cancellationToken)
    {
        using var response = await GetAsync(image, $"manifests/{reference}", ManifestTypes, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        // Docker-Content-Digest is what registries send; clients should not depend on it, so fall back to hashing the body.
        var digest = response.Headers.TryGetValues("Docker-Content-Digest", out var values)
            ? values.First()
            : "sha256:" + Convert.ToHexString(SHA256.HashData(body)).ToLowerInvariant();
        return (response.Content.Headers.ContentType?.MediaType ?? "", digest, body);
    }

    /// <summary>
    /// The platforms of an image: an index's entries (attestation entries, <c>unknown/unknown</c>,
    /// left out), or a single image's own os/architecture from its config.
    /// </summary>
    public async Task<IReadOnlyList<string>> PlatformsAsync(ImageReference image, CancellationToken cancellationToken)
    {
        var (mediaType, _, body) = await GetManifestAsync(image, image.Reference, cancellationToken);
        using var document = JsonDocument.Parse(body);
        var manifest = document.RootElement;
        if (IsIndex(mediaType, manifest))
        {
            return manifest.GetProperty("manifests").EnumerateArray()
                .Where(m => m.TryGetProperty("platform", out _))
                .Select(m => m.GetProperty("platform"))
                .Select(p => $"{p.GetProperty("os").GetString()}/{p.GetProperty("architecture").GetString()}"
                    + (p.TryGetProperty("variant", out var v) && v.GetString() is { Length: > 0 } variant ? "/" + variant : ""))
                .Where(p => !p.StartsWith("unknown/", StringComparison.Ordinal))
                .Distinct()
                .ToList();
        }
        var configDigest = manifest.GetProperty("config").GetProperty("digest").GetString()!;
        using var config = await GetAsync(image, $"blobs/{configDigest}", [], cancellationToken);
        using var configDocument = JsonDocument.Parse(await config.Content.ReadAsByteArrayAsync(cancellationToken));
        var root = configDocument.RootElement;
        var os = root.TryGetProperty("os", out var o) ? o.GetString() : null;
        var architecture = root.TryGetProperty("architecture", out var a) ? a.GetString() : null;
        if (string.IsNullOrEmpty(os) || string.IsNullOrEmpty(architecture))
        {
            throw new RegistryException($"{image} does not say its platform (no os/architecture in its config): give --platform");
        }
        return [$"{os}/{architecture}"];
    }

    private async Task<HttpResponseMessage> GetAsync(ImageReference image, string path, string[] accept, CancellationToken cancellationToken)
    {
        var scheme = await SchemeAsync(image.Registry, cancellationToken);
        var url = $"{scheme}://{image.Registry}/v2/{image.Repository}/{path}";
        var response = await SendAsync(image, url, accept, Authenticator.Cached(image), cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            var challenges = AuthChallenge.From(response.Headers);
            response.Dispose();
            var authorization = await Authenticator.AuthorizeAsync(image, challenges, cancellationToken);
            response = await SendAsync(image, url, accept, authorization, cancellationToken);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                response.Dispose();
                throw new RegistryException(await Authenticator.RefusedAsync(image, cancellationToken));
            }
        }
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            throw new RegistryException($"{image} not found ({path})", notFound: true);
        }
        if (response.StatusCode == HttpStatusCode.Forbidden)
        {
            response.Dispose();
            throw new RegistryException($"{image.Registry} denied access to {image.Repository} (403): the credentials lack pull permission");
        }
        if (!response.IsSuccessStatusCode)
        {
            var status = (int)response.StatusCode;
            response.Dispose();
            throw new RegistryException($"{image.Registry} answered {status} for {path}");
        }
        return response;
    }

    private async Task<HttpResponseMessage> SendAsync(ImageReference image, string url, string[] accept, AuthenticationHeaderValue? authorization, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        foreach (var type in accept)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }
        request.Headers.Authorization = authorization;
        try
        {
            return await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new RegistryException($"cannot reach {image.Registry}: {Describe(e)}{PlainHttpHint(image.Registry, e)}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException($"{image.Registry} did not answer within {http.Timeout.TotalSeconds:0} s");
        }
    }

    /// <summary>A TLS handshake that failed for another reason than the certificate: most likely a plain-HTTP registry.</summary>
    private string PlainHttpHint(string registry, HttpRequestException e)
    {
        var handshake = false;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            handshake |= inner is System.Security.Authentication.AuthenticationException;
        }
        return handshake && !RejectedCertificate(e) && !_access.AllowsPlainHttp(registry)
            ? $" (no TLS handshake: if it is a plain-HTTP registry, allow that with --insecure-registry {registry})"
            : "";
    }

    /// <summary>https, or for a registry allowed plain HTTP, whichever its <c>/v2/</c> answers on (HTTPS first).</summary>
    private Task<string> SchemeAsync(string registry, CancellationToken cancellationToken)
    {
        if (!_access.AllowsPlainHttp(registry))
        {
            return Task.FromResult("https");
        }
        lock (_schemes)
        {
            if (!_schemes.TryGetValue(registry, out var scheme))
            {
                _schemes[registry] = scheme = ProbeSchemeAsync(registry, cancellationToken);
            }
            return scheme;
        }
    }

    private async Task<string> ProbeSchemeAsync(string registry, CancellationToken cancellationToken)
    {
        HttpRequestException https;
        try
        {
            using var _ = await http.GetAsync($"https://{registry}/v2/", cancellationToken);
            return "https";
        }
        catch (HttpRequestException e) when (!RejectedCertificate(e))
        {
            https = e;
        }
        catch (HttpRequestException e)
        {
            // It speaks TLS, with a certificate this machine does not trust: say so, no plain-HTTP retry.
            throw new RegistryException($"cannot reach {registry}: {Describe(e)}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException($"{registry} did not answer within {http.Timeout.TotalSeconds:0} s");
        }
        try
        {
            using var _ = await http.GetAsync($"http://{registry}/v2/", cancellationToken);
            return "http";
        }
        catch (HttpRequestException)
        {
            // Neither answered: the HTTPS attempt's reason is the one to report (e.g. connection refused, an untrusted certificate).
            throw new RegistryException($"cannot reach {registry}: {Describe(https)}");
        }
    }

    private static bool RejectedCertificate(Exception e)
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Security.Authentication.AuthenticationException && inner.Message.Contains("certificate", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The innermost reason (connection refused, certificate untrusted), not .NET's wrapper text.</summary>
    private static string Describe(Exception e)
    {
        var reasons = new List<string>();
        for (var inner = (Exception?)e; inner is not null; inner = inner.InnerException)
        {
            reasons.Add(inner.Message.TrimEnd('.'));
        }
        // Drop wrappers ("…, see inner exception") and messages another one already contains.
        var kept = reasons.Distinct()
            .Where(r => !r.EndsWith("see inner exception", StringComparison.Ordinal))
            .ToList();
        kept = kept.Where(r => !kept.Any(other => other != r && other.Contains(r, StringComparison.Ordinal))).ToList();
        return kept.Count > 0 ? string.Join(": ", kept) : e.Message;
    }

    private static bool IsIndex(string mediaType, JsonElement manifest) =>
        mediaType.Contains("index", StringComparison.Ordinal) || mediaType.Contains("manifest.list", StringComparison.Ordinal)
        || (manifest.TryGetProperty("manifests", out var m) && m.ValueKind == JsonValueKind.Array);

    private static (string Os, string Architecture) SplitPlatform(string platform)
    {
        var parts = platform.Split('/');
        if (parts.Length < 2 || parts.Any(string.IsNullOrWhiteSpace))
        {
            throw new RegistryException($"'{platform}' is not a platform (expected os/architecture, e.g. linux/amd64)");
        }
        return (parts[0], parts[1]);
    }
}
