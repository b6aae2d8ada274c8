using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Sealights.Images.Testing;

namespace Sealights.Images.Bench;

/// <summary>P6: what the coverage-ready image adds to its base, as a registry would store it (gzip).</summary>
internal static class ImageSizes
{
    /// <summary>
    /// The layers <paramref name="image"/> has on top of <paramref name="baseImage"/>, gzipped
    /// (what a push stores and a pull transfers). `docker save` lists the layers in the order of
    /// the image's root filesystem, so the added ones are the last.
    /// </summary>
    public static async Task<long> AddedCompressedBytesAsync(string image, string baseImage)
    {
        var layers = JsonSerializer.Deserialize<string[]>(await DockerCli.InspectAsync(image, "{{json .RootFS.Layers}}"))!;
        var baseLayers = JsonSerializer.Deserialize<string[]>(await DockerCli.InspectAsync(baseImage, "{{json .RootFS.Layers}}"))!;
        if (!layers.Take(baseLayers.Length).SequenceEqual(baseLayers))
        {
            throw new InvalidOperationException($"{image} is not built on {baseImage}");
        }

        var added = layers.Length - baseLayers.Length;
        var archive = Path.GetTempFileName();
        try
        {
            (await DockerCli.RunAsync(["save", "-o", archive, image], TimeSpan.FromMinutes(5))).EnsureSuccess("docker save " + image);
            // Two passes: the manifest (written last) names the layers; only the added ones are gzipped.
            string[]? order = null;
            await ForEachFileAsync(archive, async (name, data) =>
            {
                if (name == "manifest.json")
                {
                    using var json = await JsonDocument.ParseAsync(data);
                    order = [.. json.RootElement[0].GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!)];
                }
            });
            if (order is null || order.Length != layers.Length)
            {
                throw new InvalidOperationException($"docker save of {image}: no manifest.json with {layers.Length} layers");
            }

            var wanted = order.Skip(order.Length - added).ToHashSet();
            long total = 0;
            await ForEachFileAsync(archive, async (name, data) =>
            {
                if (wanted.Contains(name))
                {
                    total += await GzippedLengthAsync(data);
                }
            });
            return total;
        }
        finally
        {
            File.Delete(archive);
        }
    }

    private static async Task ForEachFileAsync(string archive, Func<string, Stream, Task> visit)
    {
        await using var file = File.OpenRead(archive);
        using var reader = new TarReader(file);
        while (await reader.GetNextEntryAsync() is { } entry)
        {
            if (entry.DataStream is { } data && entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
            {
                await visit(entry.Name, data);
            }
        }
    }

    /// <summary>The uncompressed size of an image (its whole root filesystem).</summary>
    public static async Task<long> BytesAsync(string image) => long.Parse(await DockerCli.InspectAsync(image, "{{.Size}}"), System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<long> GzippedLengthAsync(Stream data)
    {
        var counter = new CountingStream();
        await using (var gzip = new GZipStream(counter, CompressionLevel.Optimal, leaveOpen: true))
        {
            await data.CopyToAsync(gzip);
        }

        return counter.Length;
    }

    /// <summary>A write-only sink that only counts (the compressed bytes are not needed).</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => _length += count;
        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
    }
}
