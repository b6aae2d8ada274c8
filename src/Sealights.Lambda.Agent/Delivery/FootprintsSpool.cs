using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sealights.Lambda.Agent.Configuration;
using Sealights.Lambda.Agent.Footprints;

namespace Sealights.Lambda.Agent.Delivery;

/// <summary>
/// Footprints batches not yet delivered, one file per batch under the spool directory (0700):
/// <c>fp-{sequence:D12}-{createdUnixMs}-{methodCount}.json</c>, written to a <c>.tmp</c> name
/// and renamed, so a reader never sees half a batch. Oldest first by sequence; a new agent
/// process adopts the files an earlier one left (leftover <c>.tmp</c> files are deleted).
/// <para>
/// Bounded: past <see cref="DeliveryOptions.SpoolMaxFiles"/> or <see cref="DeliveryOptions.SpoolMaxBytes"/>
/// the OLDEST batches are dropped and counted. A file that cannot be read back is removed,
/// counted, and logged once. When the directory cannot be written (/tmp full, not a directory)
/// batches are kept in memory up to <see cref="DeliveryOptions.MemoryMaxBytes"/> (oldest dropped
/// beyond), logged once. Nothing here throws.
/// </para>
/// </summary>
public sealed class FootprintsSpool
{
    private const string FilePrefix = "fp-";
    private const string FileSuffix = ".json";
    private const string TempSuffix = ".tmp";

    private readonly DeliveryOptions _options;
    private readonly AgentLog _log;
    private readonly DeliveryCounters _counters;
    private readonly TimeProvider _time;
    private readonly OnceLog _once = new();
    private readonly object _gate = new();
    private readonly List<SpoolEntry> _entries = [];
    private long _bytes;
    private long _memoryBytes;
    private long _nextSequence = 1;
    private bool _memoryMode;

    internal FootprintsSpool(DeliveryOptions options, AgentLog log, DeliveryCounters counters, TimeProvider time)
    {
        _options = options;
        _log = log;
        _counters = counters;
        _time = time;
        Open();
    }

    public string Directory => _options.SpoolDirectory;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    public int InMemoryCount
    {
        get
        {
            lock (_gate)
            {
                return InMemoryLocked();
            }
        }
    }

    /// <summary>
    /// Half of a cap is taken (files, bytes, or the in-memory bound): time to send before the
    /// interval is up, so that a function called hundreds of times a second does not fill the
    /// spool between two background sends and lose its oldest batches.
    /// </summary>
    public bool HalfFull
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count * 2L >= _options.SpoolMaxFiles || _bytes * 2 >= _options.SpoolMaxBytes
                    || (_memoryBytes > 0 && _memoryBytes * 2 >= _options.MemoryMaxBytes);
            }
        }
    }

    /// <summary>Batches found at start, left by an earlier agent process in this environment.</summary>
    public int Adopted { get; private set; }

    /// <summary>
    /// Adds a batch as the newest, with its attribution (<paramref name="stamp"/>, kept in the file
    /// too, so a later agent process sends it where it belongs); drops the oldest when a cap is
    /// reached. Never throws.
    /// </summary>
    public void Append(FootprintsHits hits, ExecutionStamp? stamp = null)
    {
        stamp ??= new ExecutionStamp(StampKind.Pending);
        byte[] bytes;
        try
        {
            bytes = JsonSerializer.SerializeToUtf8Bytes(SpoolRecord.From(hits, stamp), SpoolJsonContext.Default.SpoolRecord);
        }
        catch (Exception e)
        {
            Drop(ref _counters.DroppedUnreadable, 1, hits.Methods.Count);
            LogOnce("serialize", $"a footprints batch could not be serialized ({e.GetType().Name}); dropped");
            return;
        }
        lock (_gate)
        {
            if (bytes.Length > _options.SpoolMaxBytes)
            {
                Drop(ref _counters.DroppedSpoolFull, 1, hits.Methods.Count);
                LogOnce("too-big", $"a footprints batch of {hits.Methods.Count} methods ({bytes.Length} bytes) is larger than the spool (SL_SPOOL_MAX_BYTES={_options.SpoolMaxBytes}); dropped");
                return;
            }
            while (_entries.Count > 0 && (_entries.Count + 1 > _options.SpoolMaxFiles || _bytes + bytes.Length > _options.SpoolMaxBytes))
            {
                DropOldestLocked($"the spool is full ({_entries.Count} batches, {_bytes} bytes; SL_SPOOL_MAX_FILES={_options.SpoolMaxFiles}, SL_SPOOL_MAX_BYTES={_options.SpoolMaxBytes}): dropping the oldest batches; they are counted");
            }
            var entry = new SpoolEntry(_nextSequence++, _time.GetUtcNow().ToUnixTimeMilliseconds(), hits.Methods.Count, bytes.Length) { Stamp = stamp };
            if (!TryWriteFileLocked(entry, bytes))
            {
                if (bytes.Length > _options.MemoryMaxBytes)
                {
                    Drop(ref _counters.DroppedSpoolFull, 1, hits.Methods.Count);
                    return;
                }
                while (_memoryBytes + bytes.Length > _options.MemoryMaxBytes)
                {
                    var oldest = _entries.First(e => e.Memory is not null);
                    RemoveLocked(oldest);
                    Drop(ref _counters.DroppedSpoolFull, 1, oldest.Methods);
                    LogOnce("memory-full", $"the in-memory spool is full ({_options.MemoryMaxBytes} bytes): dropping its oldest batches; they are counted");
                }
                entry.Memory = bytes;
                _memoryBytes += bytes.Length;
            }
            _entries.Add(entry);
            _bytes += bytes.Length;
            DeliveryCounters.Add(ref _counters.BatchesSpooled, 1);
            DeliveryCounters.Add(ref _counters.MethodsSpooled, hits.Methods.Count);
        }
    }

    /// <summary>The oldest batches: at most <paramref name="maxCount"/>, and within <paramref name="maxBytes"/> except that the first always comes.</summary>
    public IReadOnlyList<SpoolEntry> Oldest(int maxCount, long maxBytes)
    {
        lock (_gate)
        {
            var batch = new List<SpoolEntry>();
            long size = 0;
            foreach (var entry in _entries)
            {
                if (batch.Count >= maxCount || (batch.Count > 0 && size + entry.Size > maxBytes))
                {
                    break;
                }
                batch.Add(entry);
                size += entry.Size;
            }
            return batch;
        }
    }

    /// <summary>Reads a batch back; an unreadable one is removed, counted and null is returned.</summary>
    public FootprintsHits? Read(SpoolEntry entry) => ReadRecord(entry)?.ToHits();

    private SpoolRecord? ReadRecord(SpoolEntry entry)
    {
        lock (_gate)
        {
            if (!_entries.Contains(entry))
            {
                return null;
            }
            string? problem;
            try
            {
                var bytes = entry.Memory ?? File.ReadAllBytes(entry.Path(Directory));
                var record = JsonSerializer.Deserialize(bytes, SpoolJsonContext.Default.SpoolRecord);
                if (record?.ToHits() is not null)
                {
                    return record;
                }
                problem = "not a footprints batch";
            }
            catch (JsonException)
            {
                problem = "not valid JSON";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problem = e.GetType().Name;
            }
            RemoveLocked(entry);
            Drop(ref _counters.DroppedUnreadable, 1, entry.Methods);
            LogOnce("unreadable", $"spool file {entry.FileName} cannot be read back ({problem}): removed; further unreadable files are removed and counted without a log line");
            return null;
        }
    }

    /// <summary>
    /// A batch's attribution: kept in memory since it was spooled, read from its file once for a
    /// batch an earlier agent process left (a pending stamp of that process is decided by this
    /// one's first answer). Null when the file cannot be read back (then removed, counted).
    /// </summary>
    public ExecutionStamp? StampOf(SpoolEntry entry)
    {
        lock (_gate)
        {
            if (entry.Stamp is { } known)
            {
                return known;
            }
        }
        if (ReadRecord(entry) is not { } record)
        {
            return null;
        }
        var stamp = record.ToStamp();
        lock (_gate)
        {
            return entry.Stamp ??= stamp;
        }
    }

    /// <summary>Records a decision about a waiting batch (in memory; the file keeps the stamp it was spooled with).</summary>
    internal void Decide(SpoolEntry entry, ExecutionStamp stamp)
    {
        lock (_gate)
        {
            entry.Stamp = stamp;
        }
    }

    /// <summary>
    /// Removes delivered (or deliberately dropped) batches; <paramref name="account"/> counts
    /// the ones actually removed (batches, methods) under the same lock, so a
    /// <see cref="Snapshot"/> never shows a batch gone but not yet counted.
    /// </summary>
    internal void Remove(IEnumerable<SpoolEntry> entries, Action<DeliveryCounters, int, long> account)
    {
        lock (_gate)
        {
            var batches = 0;
            long methods = 0;
            foreach (var entry in entries)
            {
                if (RemoveLocked(entry))
                {
                    batches++;
                    methods += entry.Methods;
                }
            }
            account(_counters, batches, methods);
        }
    }

    /// <summary>The counters and the spool's state, consistent with each other.</summary>
    internal DeliveryStatistics Snapshot()
    {
        lock (_gate)
        {
            return _counters.Snapshot(_entries.Count, _bytes, InMemoryLocked());
        }
    }

    // Every INVOKE takes a snapshot: no walk over a spool of files (a batch kept in memory is never empty).
    private int InMemoryLocked() => _memoryBytes == 0 ? 0 : _entries.Count(e => e.Memory is not null);

    private void Open()
    {
        try
        {
            CreatePrivateDirectory(Directory);
            var found = new List<SpoolEntry>();
            foreach (var path in System.IO.Directory.EnumerateFiles(Directory))
            {
                var name = Path.GetFileName(path);
                if (name.EndsWith(TempSuffix, StringComparison.Ordinal))
                {
                    // A write the previous process did not finish: never a complete batch.
                    TryDelete(path);
                }
                else if (SpoolEntry.TryParse(name, out var entry))
                {
                    try
                    {
                        entry.Size = new FileInfo(path).Length;
                    }
                    catch (IOException)
                    {
                        continue;
                    }
                    found.Add(entry);
                }
            }
            found.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
            _entries.AddRange(found);
            _bytes = found.Sum(e => e.Size);
            _nextSequence = found.Count == 0 ? 1 : found[^1].Sequence + 1;
            Adopted = found.Count;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            EnterMemoryMode(e);
        }
    }

    private bool TryWriteFileLocked(SpoolEntry entry, byte[] bytes)
    {
        var path = entry.Path(Directory);
        var temp = path + TempSuffix;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                // One file per batch, on the harvest's path: no preallocation (File.WriteAllBytes
                // asks for it: an fstatfs and an ftruncate per file, by strace) and a plain rename
                // (sequence numbers are unique here; without overwrite .NET checks the target first).
                using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write))
                {
                    RandomAccess.Write(handle, bytes, 0);
                }
                File.Move(temp, path, overwrite: true);
                if (_memoryMode)
                {
                    _memoryMode = false;
                    LogOnce("writable-again", $"footprints spool {Directory} is writable again");
                }
                return true;
            }
            catch (DirectoryNotFoundException) when (attempt == 0)
            {
                // The folder went away (someone cleaned /tmp): make it again, once.
                try
                {
                    CreatePrivateDirectory(Directory);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    TryDelete(temp);
                    EnterMemoryMode(e);
                    return false;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                TryDelete(temp);
                EnterMemoryMode(e);
                return false;
            }
        }
        return false;
    }

    private void EnterMemoryMode(Exception cause)
    {
        if (_memoryMode)
        {
            return;
        }
        _memoryMode = true;
        if (_once.First("memory-mode"))
        {
            _log.Warn($"footprints spool {Directory} cannot be written ({cause.GetType().Name}: {cause.Message}); keeping up to {_options.MemoryMaxBytes / 1024} KB of undelivered footprints in memory instead");
        }
    }

    private void DropOldestLocked(string message)
    {
        var oldest = _entries[0];
        RemoveLocked(oldest);
        Drop(ref _counters.DroppedSpoolFull, 1, oldest.Methods);
        LogOnce("spool-full", message);
    }

    private bool RemoveLocked(SpoolEntry entry)
    {
        if (!_entries.Remove(entry))
        {
            return false;
        }
        _bytes -= entry.Size;
        if (entry.Memory is not null)
        {
            _memoryBytes -= entry.Memory.Length;
            entry.Memory = null;
        }
        else
        {
            TryDelete(entry.Path(Directory));
        }
        return true;
    }

    private void Drop(ref long counter, long batches, long methods)
    {
        DeliveryCounters.Add(ref counter, batches);
        DeliveryCounters.Add(ref _counters.MethodsDropped, methods);
    }

    private void LogOnce(string key, string message)
    {
        if (_once.First(key))
        {
            _log.Warn(message);
        }
    }

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(path);
        }
        else
        {
            System.IO.Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind: the index no longer refers to it, so it is never sent twice by this process.
        }
    }
}

/// <summary>One spooled batch: its place in the order, when it was spooled, and where it is.</summary>
public sealed class SpoolEntry
{
    internal SpoolEntry(long sequence, long createdAtMs, int methods, long size)
    {
        Sequence = sequence;
        CreatedAtMs = createdAtMs;
        Methods = methods;
        Size = size;
    }

    public long Sequence { get; }

    /// <summary>When it was spooled, Unix epoch ms (the delivery clock).</summary>
    public long CreatedAtMs { get; }

    /// <summary>Number of methods in the batch.</summary>
    public int Methods { get; }

    public long Size { get; internal set; }

    /// <summary>Set while the batch lives in memory only (the directory could not be written).</summary>
    internal byte[]? Memory { get; set; }

    /// <summary>Where the batch goes (null: spooled by an earlier process, read from its file when needed).</summary>
    internal ExecutionStamp? Stamp { get; set; }

    public string FileName => string.Create(CultureInfo.InvariantCulture, $"fp-{Sequence:D12}-{CreatedAtMs}-{Methods}.json");

    internal string Path(string directory) => System.IO.Path.Combine(directory, FileName);

    internal static bool TryParse(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SpoolEntry? entry)
    {
        entry = null;
        if (!name.StartsWith("fp-", StringComparison.Ordinal) || !name.EndsWith(".json", StringComparison.Ordinal))
        {
            return false;
        }
        var parts = name["fp-".Length..^".json".Length].Split('-');
        if (parts.Length != 3
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var created)
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var methods))
        {
            return false;
        }
        entry = new SpoolEntry(sequence, created, methods, 0);
        return true;
    }

    public override string ToString() => FileName;
}

/// <summary>A spool file's content: one footprints hits entry (not the wire format).</summary>
internal sealed class SpoolRecord
{
    [JsonPropertyName("v")]
    public int Version { get; init; } = 1;

    [JsonPropertyName("start")]
    public long Start { get; init; }

    [JsonPropertyName("end")]
    public long End { get; init; }

    [JsonPropertyName("init")]
    public bool Init { get; init; }

    [JsonPropertyName("final")]
    public bool Final { get; init; }

    [JsonPropertyName("methods")]
    public List<string>? Methods { get; init; }

    /// <summary>The attribution when spooled; absent in files of earlier versions (then pending).</summary>
    [JsonPropertyName("execution")]
    public SpoolStamp? Execution { get; init; }

    public static SpoolRecord From(FootprintsHits hits, ExecutionStamp stamp) => new()
    {
        Start = hits.StartMs,
        End = hits.EndMs,
        Init = hits.IsInit,
        Final = hits.IsFinal,
        Methods = [.. hits.Methods],
        Execution = new SpoolStamp
        {
            Kind = stamp.Kind.ToString(),
            Id = stamp.Execution?.ExecutionId,
            BuildSessionId = stamp.Execution?.BuildSessionId,
            TestStage = stamp.Execution?.TestStage,
            Status = stamp.Execution?.Status,
            WaitedForFirst = stamp.WaitedForFirst,
        },
    };

    /// <summary>
    /// The stamp for a batch adopted from an earlier process: decided kinds as they were; a pending
    /// one (or an unknown kind) waits for this process's first answer.
    /// </summary>
    public ExecutionStamp ToStamp()
    {
        var kind = Enum.TryParse<StampKind>(Execution?.Kind, out var parsed) ? parsed : StampKind.Pending;
        var execution = Execution?.Id is { Length: > 0 } id ? new ActiveExecution(id, Execution.BuildSessionId, Execution.TestStage, Execution.Status) : null;
        if (kind is StampKind.Execution && execution is null)
        {
            kind = StampKind.Pending;
        }
        return new ExecutionStamp(kind, execution, FlushId: -1, AfterGeneration: 0, WaitedForFirst: Execution?.WaitedForFirst ?? false);
    }

    public FootprintsHits? ToHits() =>
        Version == 1 && Methods is { Count: > 0 } methods && methods.All(m => !string.IsNullOrEmpty(m)) && Start <= End
            ? new FootprintsHits(methods, Start, End, Init, Final)
            : null;
}

/// <summary>A batch's <see cref="ExecutionStamp"/> in its spool file.</summary>
internal sealed class SpoolStamp
{
    [JsonPropertyName("kind")]
    public string? Kind { get; init; }

    [JsonPropertyName("id")]
    public string? Id { get; init; }

    [JsonPropertyName("buildSessionId")]
    public string? BuildSessionId { get; init; }

    [JsonPropertyName("testStage")]
    public string? TestStage { get; init; }

    [JsonPropertyName("status")]
    public string? Status { get; init; }

    [JsonPropertyName("waitedForFirst")]
    public bool WaitedForFirst { get; init; }
}

[JsonSerializable(typeof(SpoolRecord))]
internal sealed partial class SpoolJsonContext : JsonSerializerContext;
