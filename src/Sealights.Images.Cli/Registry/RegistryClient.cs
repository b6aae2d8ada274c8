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

public sealed class RegistryException(string message) : Exception(message);

/// <summary>
/// The OCI distribution API, read-only: manifest (index → platform) and config blob.
/// Registries on loopback are spoken to over plain HTTP; authenticated registries are not
/// supported yet (the staleness check brings ECR and public.ecr.aws auth).
/// </summary>
public sealed class RegistryClient(HttpClient http)
{
    private static readonly string[] ManifestTypes =
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ];

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
        var config = await GetAsync(image, $"blobs/{configDigest}", [], cancellationToken);
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

    private async Task<HttpResponseMessage> GetAsync(ImageReference image, string path, string[] accept, CancellationToken cancellationToken)
    {
        var scheme = image.IsLoopback ? "http" : "https";
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{scheme}://{image.Registry}/v2/{image.Repository}/{path}");
        foreach (var type in accept)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new RegistryException($"cannot reach {image.Registry}: {e.Message}");
        }
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            throw new RegistryException($"{image} not found ({path})");
        }
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            response.Dispose();
            throw new RegistryException($"{image.Registry} requires authentication, which this version does not support yet");
        }
        if (!response.IsSuccessStatusCode)
        {
            var status = (int)response.StatusCode;
            response.Dispose();
            throw new RegistryException($"{image.Registry} answered {status} for {path}");
        }
        return response;
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
