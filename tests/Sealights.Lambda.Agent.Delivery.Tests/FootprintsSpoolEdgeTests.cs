using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Sealights.Lambda.Agent.Footprints;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// The spool's edges that its mutation run showed untested: caps met exactly, the in-memory
/// bound, a folder removed or a name taken by a directory, the way back to disk, files that
/// are not the spool's, files of an earlier version, and removal accounting.
/// </summary>
public sealed class FootprintsSpoolEdgeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DeliveryScope _scope = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    private FootprintsSpool Open(DeliveryOptions options, DeliveryCounters? counters = null, TimeProvider? time = null) =>
        new(options, _scope.Log.Agent, counters ?? new DeliveryCounters(), time ?? _scope.Clock);

    private DeliveryOptions InFolder(string name, params (string Name, string Value)[] env) =>
        _scope.Options([("SL_SPOOL_DIR", Path.Combine(_scope.Root, name)), .. env]);

    /// <summary>Options whose spool folder cannot be made (below a regular file): the spool keeps batches in memory.</summary>
    private DeliveryOptions Unwritable(string name, long memoryMaxBytes)
    {
        var blocker = Path.Combine(_scope.Root, name + "-file");
        File.WriteAllText(blocker, "");
        return _scope.Options(("SL_SPOOL_DIR", Path.Combine(blocker, "spool"))) with { MemoryMaxBytes = memoryMaxBytes };
    }

    private static FootprintsHits Batch(int n, int methods = 3) =>
        new(Enumerable.Range(0, methods).Select(i => Hits.Method(n, i).Id).ToList(), 1000 + n, 2000 + n, false, false);

    private static int?[] Numbers(FootprintsSpool spool) =>
        spool.Oldest(100, long.MaxValue).Select(e => spool.Read(e) is { } hits ? Hits.BatchOf(hits.Methods[0]) : (int?)null).ToArray();

    /// <summary>The size of a spooled batch (the same in a file and in memory): batches 1 to 9 of a size are equally long.</summary>
    private long SizeOf(int methods)
    {
        var spool = Open(InFolder("measure-" + methods));
        spool.Append(Batch(1, methods));
        return spool.Bytes;
    }

    /// <summary>
    /// A spool on a standing clock in its own folder, where a directory holds the first batch's
    /// file name (3 methods) followed by <paramref name="suffix"/>.
    /// </summary>
    private FootprintsSpool OpenWithFirstNameTaken(string name, string suffix, out string folder)
    {
        folder = Path.Combine(_scope.Root, name);
        Directory.CreateDirectory(Path.Combine(folder, "fp-000000000001-1700000000123-3.json" + suffix));
        return Open(_scope.Options(("SL_SPOOL_DIR", folder)), time: new FixedClock(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123)));
    }

    private static string[] Files(string folder) => Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void Half_the_byte_cap_exactly_is_half_full_and_one_byte_more_of_cap_is_not()
    {
        // Half full kicks a send before the interval (FootprintsDelivery.WriteAsync).
        var size = SizeOf(methods: 200);
        var exact = Open(InFolder("half-exact", ("SL_SPOOL_MAX_BYTES", (2 * size).ToString())));
        Assert.False(exact.HalfFull);
        exact.Append(Batch(1, 200));
        var below = Open(InFolder("half-below", ("SL_SPOOL_MAX_BYTES", (2 * size + 1).ToString())));
        below.Append(Batch(1, 200));

        Assert.Equal((true, false), (exact.HalfFull, below.HalfFull));
    }

    [Fact]
    public void In_memory_half_the_memory_bound_exactly_is_half_full_and_less_is_not()
    {
        var size = SizeOf(methods: 3);
        var exact = Open(Unwritable("memory-half-exact", memoryMaxBytes: 2 * size));
        exact.Append(Batch(1));
        var below = Open(Unwritable("memory-half-below", memoryMaxBytes: 2 * size + 1));
        below.Append(Batch(1));

        Assert.Equal((1, 1), (exact.InMemoryCount, below.InMemoryCount));
        Assert.Equal((true, false), (exact.HalfFull, below.HalfFull));
    }

    [Fact]
    public void A_batch_exactly_the_spool_byte_cap_is_kept_and_two_exactly_filling_it_are_both_kept()
    {
        var size = SizeOf(methods: 200);
        Assert.True(size >= 4096, $"a batch of {size} bytes is below the smallest SL_SPOOL_MAX_BYTES");

        var counters = new DeliveryCounters();
        var one = Open(InFolder("one", ("SL_SPOOL_MAX_BYTES", size.ToString())), counters);
        one.Append(Batch(1, 200));
        var two = Open(InFolder("two", ("SL_SPOOL_MAX_BYTES", (2 * size).ToString())), counters);
        two.Append(Batch(1, 200));
        two.Append(Batch(2, 200));

        Assert.Equal([1], Numbers(one));
        Assert.Equal([1, 2], Numbers(two));
        Assert.Equal(0, counters.DroppedSpoolFull);
        Assert.Equal(0, _scope.Log.Count("spool is full") + _scope.Log.Count("larger than the spool"));
    }

    [Fact]
    public void Oldest_takes_batches_that_fill_the_size_limit_exactly()
    {
        var spool = Open(InFolder("oldest"));
        for (var n = 1; n <= 3; n++)
        {
            spool.Append(Batch(n));
        }

        var size = spool.Oldest(1, long.MaxValue)[0].Size;

        Assert.Equal(2, spool.Oldest(10, 2 * size).Count);
        Assert.Single(spool.Oldest(10, 2 * size - 1));
    }

    [Fact]
    public void In_memory_a_batch_exactly_the_bound_is_kept_a_larger_one_dropped_and_two_exactly_filling_it_kept()
    {
        var size = SizeOf(methods: 3);

        var exact = Open(Unwritable("exact", size));
        exact.Append(Batch(1));
        var tooSmallCounters = new DeliveryCounters();
        var tooSmall = Open(Unwritable("too-small", size - 1), tooSmallCounters);
        tooSmall.Append(Batch(1));
        var twoCounters = new DeliveryCounters();
        var two = Open(Unwritable("two", 2 * size), twoCounters);
        two.Append(Batch(1));
        two.Append(Batch(2));
        var twoBefore = Numbers(two);
        two.Append(Batch(3));

        Assert.Equal([1], Numbers(exact));
        Assert.Equal(1, exact.InMemoryCount);
        Assert.Equal(0, tooSmall.Count);
        Assert.Equal((1, 3), (tooSmallCounters.DroppedSpoolFull, tooSmallCounters.MethodsDropped));
        Assert.Equal([1, 2], twoBefore);
        Assert.Equal([2, 3], Numbers(two));
        Assert.Equal((1, 3), (twoCounters.DroppedSpoolFull, twoCounters.MethodsDropped));
    }

    [Fact]
    public void A_spool_opened_on_a_missing_folder_makes_it_private_and_writes_to_disk_without_a_warning()
    {
        var folder = Path.Combine(_scope.Root, "not", "yet");
        var spool = Open(_scope.Options(("SL_SPOOL_DIR", folder)));

        Assert.True(Directory.Exists(folder));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        spool.Append(Batch(1));

        Assert.Equal(0, spool.InMemoryCount);
        Assert.Single(Files(folder));
        // Nothing went wrong, so nothing is said about the spool's folder.
        Assert.Equal(0, _scope.Log.Count("cannot be written"));
        Assert.Equal(0, _scope.Log.Count("writable again"));
    }

    [Fact]
    public void A_folder_removed_mid_run_is_made_again_and_the_next_batch_goes_to_disk()
    {
        var folder = Path.Combine(_scope.Root, "removed");
        var spool = Open(_scope.Options(("SL_SPOOL_DIR", folder)));
        spool.Append(Batch(1));
        // Someone cleans /tmp.
        Directory.Delete(folder, recursive: true);

        spool.Append(Batch(2));

        Assert.Equal(0, spool.InMemoryCount);
        Assert.Single(Files(folder));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        Assert.Equal([null, 2], Numbers(spool));
        Assert.Equal(0, _scope.Log.Count("cannot be written"));
    }

    [Fact]
    public void A_write_refused_keeps_the_batch_in_memory_said_once_and_the_next_write_to_disk_says_writable_again()
    {
        // The first batch's temporary name is taken by a directory: writing it fails (root too) while the folder stays writable.
        var spool = OpenWithFirstNameTaken("taken", ".tmp", out var folder);

        spool.Append(Batch(1));
        var inMemoryAfterFirst = spool.InMemoryCount;
        spool.Append(Batch(2));

        Assert.Equal(1, inMemoryAfterFirst);
        Assert.Equal(1, spool.InMemoryCount);
        Assert.Equal(["fp-000000000002-1700000000123-3.json"], Files(folder));
        Assert.Equal([1, 2], Numbers(spool));
        var warning = Assert.Single(_scope.Log.Lines, l => l.Contains("cannot be written", StringComparison.Ordinal));
        Assert.Contains("(UnauthorizedAccessException:", warning, StringComparison.Ordinal);
        // The default in-memory bound, 4 MiB, in KB.
        Assert.Contains("keeping up to 4096 KB", warning, StringComparison.Ordinal);
        Assert.Equal(1, _scope.Log.Count("is writable again"));
    }

    [Fact]
    public void Files_that_are_not_the_spools_are_neither_adopted_nor_removed()
    {
        var folder = Path.Combine(_scope.Root, "foreign");
        Directory.CreateDirectory(folder);
        string[] foreign = ["ab-000000000007-5-3.json", "fp-000000000008-5-3.yaml", "fp-x.json", "fp-000000000009-5.json", "fp-000000000010-5-x.json"];
        foreach (var name in foreign)
        {
            File.WriteAllText(Path.Combine(folder, name), """{"v":1,"start":1,"end":2,"methods":["a"]}""");
        }

        var spool = Open(_scope.Options(("SL_SPOOL_DIR", folder)));
        spool.Append(Batch(1));

        Assert.Equal(0, spool.Adopted);
        Assert.Equal(1, spool.Count);
        Assert.Equal(foreign.Append("fp-000000000001-").Order(StringComparer.Ordinal).ToArray(),
            Files(folder).Select(f => f.StartsWith("fp-000000000001-", StringComparison.Ordinal) ? "fp-000000000001-" : f).ToArray());
    }

    [Fact]
    public void Files_of_an_earlier_version_are_read_and_their_stamps_wait_unless_they_name_an_execution()
    {
        var folder = Path.Combine(_scope.Root, "earlier");
        Directory.CreateDirectory(folder);
        // No stamp at all, and a batch whose start is its end (one instant).
        File.WriteAllText(Path.Combine(folder, "fp-000000000001-5-2.json"), """{"v":1,"start":10,"end":10,"methods":["a","b"]}""");
        // An execution kind without an id cannot be sent anywhere: it waits like a pending one.
        File.WriteAllText(Path.Combine(folder, "fp-000000000002-5-1.json"), """{"v":1,"start":1,"end":2,"methods":["c"],"execution":{"kind":"Execution"}}""");
        File.WriteAllText(Path.Combine(folder, "fp-000000000003-5-1.json"), """{"v":1,"start":1,"end":2,"methods":["d"],"execution":{"kind":"Execution","id":"e-3","waitedForFirst":true}}""");

        var spool = Open(_scope.Options(("SL_SPOOL_DIR", folder)));
        var entries = spool.Oldest(10, long.MaxValue);
        var stamps = entries.Select(spool.StampOf).ToArray();
        var first = spool.Read(entries[0]);

        Assert.Equal(3, spool.Adopted);
        Assert.Equal(new ExecutionStamp(StampKind.Pending, FlushId: -1), stamps[0]);
        Assert.Equal(new ExecutionStamp(StampKind.Pending, FlushId: -1), stamps[1]);
        Assert.Equal(new ExecutionStamp(StampKind.Execution, new ActiveExecution("e-3", null, null, null), FlushId: -1, WaitedForFirst: true), stamps[2]);
        Assert.NotNull(first);
        Assert.Equal(["a", "b"], first.Methods);
        Assert.Equal((10L, 10L), (first.StartMs, first.EndMs));
    }

    [Fact]
    public void The_stamp_of_a_batch_spooled_here_and_a_decision_about_it_come_from_memory_even_when_its_file_is_damaged()
    {
        var folder = Path.Combine(_scope.Root, "stamps");
        var spool = Open(_scope.Options(("SL_SPOOL_DIR", folder)));
        var integration = new ActiveExecution("exec-9", "bsid-1", "Integration", "created");
        var pending = new ExecutionStamp(StampKind.Pending, FlushId: 4, AfterGeneration: 3);
        spool.Append(Batch(1), pending);
        var entry = Assert.Single(spool.Oldest(10, long.MaxValue));
        File.WriteAllText(Path.Combine(folder, entry.FileName), "\0 damaged");

        var before = spool.StampOf(entry);
        var decided = new ExecutionStamp(StampKind.Execution, integration, FlushId: 4);
        spool.Decide(entry, decided);

        Assert.Equal(pending, before);
        Assert.Equal(decided, spool.StampOf(entry));
        Assert.Equal(1, spool.Count);
    }

    [Fact]
    public void Unreadable_files_say_why_in_their_one_log_line()
    {
        var json = Path.Combine(_scope.Root, "bad-json");
        var shape = Path.Combine(_scope.Root, "bad-shape");
        Directory.CreateDirectory(json);
        Directory.CreateDirectory(shape);
        File.WriteAllText(Path.Combine(json, "fp-000000000001-5-1.json"), "{not json");
        File.WriteAllText(Path.Combine(shape, "fp-000000000001-5-1.json"), """{"v":1,"start":1,"end":2,"methods":[]}""");

        var a = Open(_scope.Options(("SL_SPOOL_DIR", json)));
        var b = Open(_scope.Options(("SL_SPOOL_DIR", shape)));

        Assert.Null(a.Read(a.Oldest(1, long.MaxValue)[0]));
        Assert.Null(b.Read(b.Oldest(1, long.MaxValue)[0]));
        Assert.Equal(1, _scope.Log.Count("fp-000000000001-5-1.json cannot be read back (not valid JSON)"));
        Assert.Equal(1, _scope.Log.Count("fp-000000000001-5-1.json cannot be read back (not a footprints batch)"));
    }

    [Fact]
    public void Removing_counts_only_the_batches_still_there_and_a_removed_batch_reads_as_nothing_without_a_drop()
    {
        var folder = Path.Combine(_scope.Root, "remove");
        var counters = new DeliveryCounters();
        var spool = Open(_scope.Options(("SL_SPOOL_DIR", folder)), counters);
        spool.Append(Batch(1, methods: 2));
        spool.Append(Batch(2, methods: 3));
        spool.Append(Batch(3, methods: 4));
        var entries = spool.Oldest(10, long.MaxValue);
        var accounted = new List<(int Batches, long Methods)>();

        spool.Remove([entries[0], entries[1]], (c, batches, methods) => accounted.Add((batches, methods)));
        spool.Remove([entries[1], entries[2]], (c, batches, methods) => accounted.Add((batches, methods)));
        var readRemoved = spool.Read(entries[0]);
        var snapshot = spool.Snapshot();

        Assert.Equal([(2, 5L), (1, 4L)], accounted);
        Assert.Null(readRemoved);
        Assert.Equal(0, counters.DroppedUnreadable);
        Assert.Empty(Files(folder));
        Assert.Equal((0, 0L, 0), (snapshot.PendingBatches, snapshot.PendingBytes, snapshot.PendingInMemory));
    }

    [Fact]
    public void The_snapshot_counts_batches_held_in_memory_apart_from_those_on_disk()
    {
        var folder = Path.Combine(_scope.Root, "snapshot");
        var spool = Open(_scope.Options(("SL_SPOOL_DIR", folder)));
        spool.Append(Batch(1));
        spool.Append(Batch(2));
        Directory.Delete(folder, recursive: true);
        File.WriteAllText(folder, "");
        spool.Append(Batch(3));

        var snapshot = spool.Snapshot();

        Assert.Equal((3, spool.Bytes, 1), (snapshot.PendingBatches, snapshot.PendingBytes, snapshot.PendingInMemory));
    }

    [Fact]
    public void A_write_whose_final_name_is_taken_leaves_no_temporary_file_behind()
    {
        // The temporary file is written, then its rename onto the batch's name (a directory) fails.
        var spool = OpenWithFirstNameTaken("final-taken", "", out var folder);

        spool.Append(Batch(1));

        Assert.Equal(1, spool.InMemoryCount);
        Assert.Empty(Files(folder));
        Assert.Equal([1], Numbers(spool));
        Assert.Equal(1, _scope.Log.Count("cannot be written"));
    }

    /// <summary>A clock standing still, for predictable spool file names.</summary>
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
