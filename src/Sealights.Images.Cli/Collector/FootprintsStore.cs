using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Sealights.Images.Cli.Collector;

/// <summary>
/// The collector's durable store: one JSON line per accepted request, appended to
/// <c>{dir}/footprints.jsonl</c>. <see cref="AppendAsync"/> returns only after the line is on disk
/// (fsync), so an acknowledged request survives a crash of the process or the machine. Requests
/// that arrive together are written by one writer and share one fsync (group commit).
/// </summary>
public sealed class FootprintsStore : IAsyncDisposable
{
    public const string FileName = "footprints.jsonl";

    private readonly FileStream _file;
    private readonly Channel<PendingLine> _pending = Channel.CreateUnbounded<PendingLine>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private long _stored;

    private FootprintsStore(string path, FileStream file)
    {
        Path = path;
        _file = file;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>The file the records go to.</summary>
    public string Path { get; }

    /// <summary>Records appended by this process.</summary>
    public long Stored => Interlocked.Read(ref _stored);

    /// <summary>Opens (creates) the store in <paramref name="directory"/>; a line torn by an earlier crash is closed off.</summary>
    public static FootprintsStore Open(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = System.IO.Path.Combine(directory, FileName);
        var created = !File.Exists(path);
        var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 1, FileOptions.None);
        if (file.Length > 0 && LastByte(path) != (byte)'\n')
        {
            // A crash mid-write left part of a line that was never acknowledged: end it, so the
            // next record starts on a line of its own (the reader skips the torn one).
            file.Write("\n"u8);
            file.Flush(flushToDisk: true);
        }
        if (created)
        {
            file.Flush(flushToDisk: true);
            DirectorySync.Sync(directory);
        }
        return new FootprintsStore(path, file);
    }

    /// <summary>Appends one record and returns once it is on disk.</summary>
    public Task AppendAsync(StoredRecord record)
    {
        var line = new PendingLine(record.ToJsonLine());
        if (!_pending.Writer.TryWrite(line))
        {
            throw new ObjectDisposedException(nameof(FootprintsStore));
        }
        return line.Done.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _writer;
        await _file.DisposeAsync();
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<PendingLine>();
        while (await _pending.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (_pending.Reader.TryRead(out var line))
            {
                batch.Add(line);
            }
            try
            {
                foreach (var line in batch)
                {
                    _file.Write(line.Bytes);
                }
                _file.Flush(flushToDisk: true);
                Interlocked.Add(ref _stored, batch.Count);
                foreach (var line in batch)
                {
                    line.Done.TrySetResult();
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                foreach (var line in batch)
                {
                    line.Done.TrySetException(e);
                }
            }
        }
    }

    private static byte LastByte(string path)
    {
        using var read = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        read.Seek(-1, SeekOrigin.End);
        return (byte)read.ReadByte();
    }

    private sealed class PendingLine(byte[] bytes)
    {
        public byte[] Bytes { get; } = bytes;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>
/// One accepted footprints request as stored: who sent it (from the headers, never the token),
/// the collector's execution when the request had none, and the body as received (decompressed).
/// </summary>
public sealed record StoredRecord(DateTimeOffset ReceivedAt, string Route, string? Bsid, string? LabId, string? AgentId, string? ExecutionId, string? TestStage, JsonElement Body)
{
    public const int Version = 1;

    public byte[] ToJsonLine()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", Version);
            writer.WriteString("receivedAt", ReceivedAt);
            writer.WriteString("route", Route);
            WriteOptional(writer, "bsid", Bsid);
            WriteOptional(writer, "labId", LabId);
            WriteOptional(writer, "agentId", AgentId);
            WriteOptional(writer, "executionId", ExecutionId);
            WriteOptional(writer, "testStage", TestStage);
            writer.WritePropertyName("body");
            Body.WriteTo(writer);
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>A stored line back, or null when it is not one (a line torn by a crash).</summary>
    public static StoredRecord? TryParse(string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("body", out var body)
                || !root.TryGetProperty("receivedAt", out var received) || !received.TryGetDateTimeOffset(out var receivedAt))
            {
                return null;
            }
            return new StoredRecord(receivedAt, Text(root, "route") ?? "", Text(root, "bsid"), Text(root, "labId"), Text(root, "agentId"),
                Text(root, "executionId"), Text(root, "testStage"), body.Clone());
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void WriteOptional(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private static string? Text(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.String ? element.GetString() : null;
}

/// <summary>Reads every record of a store folder (<c>*.jsonl</c>, oldest file first).</summary>
public static class FootprintsStoreReader
{
    public const int ProgressEvery = 5000;

    /// <summary>The records, and how many lines could not be read (torn by a crash, or not records).</summary>
    /// <param name="progress">Called with the lines read so far, every <see cref="ProgressEvery"/> lines.</param>
    public static (List<StoredRecord> Records, int Unreadable) Read(string directory, Action<int>? progress = null)
    {
        var records = new List<StoredRecord>();
        var unreadable = 0;
        var lines = 0;
        foreach (var file in Directory.EnumerateFiles(directory, "*.jsonl").Order(StringComparer.Ordinal))
        {
            foreach (var line in File.ReadLines(file, Encoding.UTF8))
            {
                if (++lines % ProgressEvery == 0)
                {
                    progress?.Invoke(lines);
                }
                if (line.Length == 0)
                {
                    continue;
                }
                if (StoredRecord.TryParse(line) is { } record)
                {
                    records.Add(record);
                }
                else
                {
                    unreadable++;
                }
            }
        }
        return (records, unreadable);
    }
}
