using System.IO.Compression;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Sealights.Images.Cli.Tests.Check;

/// <summary>
/// Pushes small images straight through a registry's distribution API (blob upload, manifest
/// PUT), the way a build pushes them: a config with labels and <c>created</c>, one tiny layer, a
/// per-platform manifest, and multi-platform indexes. What `check` reads is exactly what a
/// build records (labels, config, manifest digests); the images just have no real filesystem.
/// </summary>
public sealed class OciPusher(HttpClient http, string baseUrl)
{
    public const string ManifestType = "application/vnd.oci.image.manifest.v1+json";
    public const string IndexType = "application/vnd.oci.image.index.v1+json";

    /// <summary>Pushes a one-platform image; returns its manifest digest.</summary>
    public async Task<string> PushImageAsync(string repository, string tag, string platform, IReadOnlyDictionary<string, string> labels, DateTimeOffset created)
    {
        var (os, architecture) = (platform.Split('/')[0], platform.Split('/')[1]);
        var layer = Layer($"{repository}:{tag} {platform} {created:O} {Guid.NewGuid()}");
        var labelObject = new JsonObject();
        foreach (var (key, value) in labels)
        {
            labelObject[key] = value;
        }
        var config = new JsonObject
        {
            ["architecture"] = architecture,
            ["os"] = os,
            ["created"] = created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'"),
            ["config"] = new JsonObject { ["Labels"] = labelObject },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(Digest(layer.Uncompressed)) },
        };
        var configBytes = Encoding.UTF8.GetBytes(config.ToJsonString());
        await PushBlobAsync(repository, configBytes);
        await PushBlobAsync(repository, layer.Compressed);
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = ManifestType,
            ["config"] = Descriptor("application/vnd.oci.image.config.v1+json", configBytes),
            ["layers"] = new JsonArray(Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer.Compressed)),
        };
        return await PutManifestAsync(repository, tag, ManifestType, Encoding.UTF8.GetBytes(manifest.ToJsonString()));
    }

    /// <summary>Pushes an index of per-platform manifests already in the repository; returns its digest.</summary>
    public async Task<string> PushIndexAsync(string repository, string tag, IReadOnlyList<(string Platform, string Digest)> entries)
    {
        var manifests = new JsonArray();
        foreach (var (platform, digest) in entries)
        {
            var body = await GetAsync($"{repository}/manifests/{digest}", ManifestType);
            manifests.Add(new JsonObject
            {
                ["mediaType"] = ManifestType,
                ["digest"] = digest,
                ["size"] = body.Length,
                ["platform"] = new JsonObject { ["os"] = platform.Split('/')[0], ["architecture"] = platform.Split('/')[1] },
            });
        }
        var index = new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = IndexType, ["manifests"] = manifests };
        return await PutManifestAsync(repository, tag, IndexType, Encoding.UTF8.GetBytes(index.ToJsonString()));
    }

    public static string Digest(byte[] content) => "sha256:" + Convert.ToHexString(SHA256.HashData(content)).ToLowerInvariant();

    private static JsonObject Descriptor(string mediaType, byte[] content) =>
        new() { ["mediaType"] = mediaType, ["digest"] = Digest(content), ["size"] = content.Length };

    /// <summary>A gzipped tar with one small file (a valid layer, unique per image).</summary>
    private static (byte[] Uncompressed, byte[] Compressed) Layer(string content)
    {
        var tar = new MemoryStream();
        using (var writer = new System.Formats.Tar.TarWriter(tar, leaveOpen: true))
        {
            var entry = new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "etc/sl-check-test")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
            };
            writer.WriteEntry(entry);
        }
        var uncompressed = tar.ToArray();
        var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(uncompressed);
        }
        return (uncompressed, compressed.ToArray());
    }

    private async Task PushBlobAsync(string repository, byte[] content)
    {
        using var start = await http.PostAsync($"{baseUrl}/v2/{repository}/blobs/uploads/", null);
        Ensure(start, "blob upload start");
        var location = start.Headers.Location!;
        var upload = location.IsAbsoluteUri ? location : new Uri(new Uri(baseUrl), location);
        var separator = upload.Query.Length > 0 ? "&" : "?";
        using var put = new HttpRequestMessage(HttpMethod.Put, $"{upload}{separator}digest={Uri.EscapeDataString(Digest(content))}")
        {
            Content = new ByteArrayContent(content),
        };
        put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await http.SendAsync(put);
        Ensure(response, "blob upload");
    }

    private async Task<string> PutManifestAsync(string repository, string tag, string mediaType, byte[] body)
    {
        using var put = new HttpRequestMessage(HttpMethod.Put, $"{baseUrl}/v2/{repository}/manifests/{tag}") { Content = new ByteArrayContent(body) };
        put.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var response = await http.SendAsync(put);
        Ensure(response, $"manifest PUT {repository}:{tag}");
        return Digest(body);
    }

    private async Task<byte[]> GetAsync(string path, string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{baseUrl}/v2/{path}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        using var response = await http.SendAsync(request);
        Ensure(response, $"GET {path}");
        return await response.Content.ReadAsByteArrayAsync();
    }

    private static void Ensure(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{what}: {(int)response.StatusCode} {response.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");
        }
    }
}
