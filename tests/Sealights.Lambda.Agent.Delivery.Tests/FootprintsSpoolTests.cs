using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Sealights.Lambda.Agent.Footprints;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

public sealed class FootprintsSpoolTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DeliveryScope _scope = new(output);
    private readonly DeliveryCounters _counters = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    private FootprintsSpool Open(DeliveryOptions? options = null) =>
        new(options ?? _scope.Options(), _scope.Log.Agent, _counters, _scope.Clock);

    private static FootprintsHits Batch(int n, int methods = 3) =>
        new(Enumerable.Range(0, methods).Select(i => Hits.Method(n, i).Id).ToList(), 1000 + n, 2000 + n, n == 0, false);

    private static int BatchNumber(FootprintsHits hits) => Hits.BatchOf(hits.Methods[0]);

    private string[] SpoolFiles() => Directory.GetFiles(_scope.SpoolDirectory).Select(Path.GetFileName).Order().ToArray()!;

    [Fact]
    public void A_batch_is_one_complete_file_and_reads_back_equal()
    {
        var spool = Open();

        spool.Append(Batch(0));

        var file = Assert.Single(SpoolFiles());
        Assert.Matches(@"^fp-000000000001-\d+-3\.json$", file);
        var entry = Assert.Single(spool.Oldest(10, long.MaxValue));
        var read = spool.Read(entry)!;
        Assert.Equal(Batch(0).Methods, read.Methods);
        Assert.Equal((1000L, 2000L, true, false), (read.StartMs, read.EndMs, read.IsInit, read.IsFinal));
        Assert.Equal(new FileInfo(Path.Combine(_scope.SpoolDirectory, file)).Length, spool.Bytes);
        Assert.Equal((1, 3), (_counters.BatchesSpooled, _counters.MethodsSpooled));
        // The folder is private to the agent.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_scope.SpoolDirectory));
    }

    [Fact]
    public void Batches_come_back_oldest_first_within_count_and_size_limits()
    {
        var spool = Open();
        for (var n = 1; n <= 5; n++)
        {
            spool.Append(Batch(n));
        }

        Assert.Equal([1, 2, 3, 4, 5], spool.Oldest(10, long.MaxValue).Select(e => BatchNumber(spool.Read(e)!)));
        Assert.Equal([1, 2], spool.Oldest(2, long.MaxValue).Select(e => BatchNumber(spool.Read(e)!)));
        var one = spool.Oldest(1, long.MaxValue)[0].Size;
        Assert.Equal(2, spool.Oldest(10, one * 2 + 1).Count);
        // A batch larger than the size limit still goes, alone.
        Assert.Single(spool.Oldest(10, 1));
    }

    [Fact]
    public void A_new_process_adopts_the_spool_in_order_and_never_reads_an_unfinished_write()
    {
        var first = Open();
        first.Append(Batch(1));
        first.Append(Batch(2));
        // A crash in the middle of a write leaves only the temporary name behind.
        File.WriteAllText(Path.Combine(_scope.SpoolDirectory, "fp-000000000003-1-3.json.tmp"), "{\"v\":1,\"meth");

        var second = Open();
        second.Append(Batch(3));

        Assert.Equal(2, second.Adopted);
        Assert.Equal([1, 2, 3], second.Oldest(10, long.MaxValue).Select(e => BatchNumber(second.Read(e)!)));
        Assert.DoesNotContain(SpoolFiles(), f => f.EndsWith(".tmp", StringComparison.Ordinal));
        Assert.Equal("fp-000000000003", SpoolFiles()[2][..15]);
    }

    [Fact]
    public void Past_the_file_cap_the_oldest_batches_are_dropped_counted_and_logged_once()
    {
        var spool = Open(_scope.Options(("SL_SPOOL_MAX_FILES", "3")));

        for (var n = 1; n <= 6; n++)
        {
            spool.Append(Batch(n));
        }

        Assert.Equal([4, 5, 6], spool.Oldest(10, long.MaxValue).Select(e => BatchNumber(spool.Read(e)!)));
        Assert.Equal(3, SpoolFiles().Length);
        Assert.Equal(3, _counters.DroppedSpoolFull);
        Assert.Equal(9, _counters.MethodsDropped);
        Assert.Equal(1, _scope.Log.Count("the spool is full"));
    }

    [Fact]
    public void Past_the_byte_cap_the_oldest_batches_are_dropped_and_the_disk_stays_within_it()
    {
        var options = _scope.Options(("SL_SPOOL_MAX_BYTES", "4096"));
        var spool = Open(options);

        for (var n = 1; n <= 40; n++)
        {
            spool.Append(Batch(n, methods: 4));
        }

        var onDisk = Directory.GetFiles(_scope.SpoolDirectory).Sum(f => new FileInfo(f).Length);
        Assert.True(onDisk <= 4096, $"{onDisk} bytes on disk");
        Assert.Equal(onDisk, spool.Bytes);
        Assert.Equal(40 - spool.Count, _counters.DroppedSpoolFull);
        Assert.True(_counters.DroppedSpoolFull > 0);
        Assert.Equal(40, BatchNumber(spool.Read(spool.Oldest(100, long.MaxValue)[^1])!));
    }

    [Fact]
    public void A_batch_larger_than_the_whole_spool_is_dropped_and_counted_without_throwing()
    {
        var spool = Open(_scope.Options(("SL_SPOOL_MAX_BYTES", "4096")));

        spool.Append(Batch(1, methods: 500));

        Assert.Equal(0, spool.Count);
        Assert.Equal((1, 500), (_counters.DroppedSpoolFull, _counters.MethodsDropped));
        Assert.Equal(1, _scope.Log.Count("larger than the spool"));
    }

    [Fact]
    public void Corrupt_files_are_skipped_removed_counted_and_logged_once()
    {
        var first = Open();
        first.Append(Batch(1));
        first.Append(Batch(2));
        first.Append(Batch(3));
        var files = SpoolFiles();
        File.WriteAllText(Path.Combine(_scope.SpoolDirectory, files[0]), "\0\0garbage");
        File.WriteAllText(Path.Combine(_scope.SpoolDirectory, files[2]), """{"v":1,"methods":[]}""");

        var spool = Open();
        var read = spool.Oldest(10, long.MaxValue).Select(spool.Read).ToList();

        Assert.Equal([null, 2, null], read.Select(h => h is null ? (int?)null : BatchNumber(h)));
        Assert.Equal([files[1]], SpoolFiles());
        Assert.Equal(1, spool.Count);
        Assert.Equal(2, _counters.DroppedUnreadable);
        Assert.Equal(1, _scope.Log.Count("cannot be read back"));
    }

    [Fact]
    public void When_the_spool_folder_cannot_be_created_batches_are_kept_in_memory_within_a_bound()
    {
        // Unprivileged and root alike cannot make a folder below a regular file: /tmp "full" for our purpose.
        var blocker = Path.Combine(_scope.Root, "a-file");
        File.WriteAllText(blocker, "");
        var options = _scope.Options(("SL_SPOOL_DIR", Path.Combine(blocker, "spool"))) with { MemoryMaxBytes = 1000 };
        var spool = Open(options);

        for (var n = 1; n <= 10; n++)
        {
            spool.Append(Batch(n));
        }

        Assert.True(spool.Count is > 0 and < 10);
        Assert.Equal(spool.Count, spool.InMemoryCount);
        Assert.True(spool.Bytes <= 1000);
        Assert.Equal(10 - spool.Count, _counters.DroppedSpoolFull);
        Assert.Equal(10, BatchNumber(spool.Read(spool.Oldest(100, long.MaxValue)[^1])!));
        Assert.Equal(1, _scope.Log.Count("cannot be written"));
        Assert.Equal(1, _scope.Log.Count("in-memory spool is full"));
    }

    [Fact]
    public void When_the_folder_becomes_unwritable_mid_run_new_batches_go_to_memory_and_keep_their_order()
    {
        var spool = Open();
        spool.Append(Batch(1));
        spool.Append(Batch(2));
        // /tmp "fills up": the folder is replaced by a file, so writes fail (even as root).
        Directory.Delete(_scope.SpoolDirectory, recursive: true);
        File.WriteAllText(_scope.SpoolDirectory, "");

        spool.Append(Batch(3));
        spool.Append(Batch(4));

        Assert.Equal(2, spool.InMemoryCount);
        var read = spool.Oldest(10, long.MaxValue).Select(spool.Read).ToList();
        // Batch 1's and 2's files are gone with the folder: counted as unreadable, the rest is intact and in order.
        Assert.Equal([null, null, 3, 4], read.Select(h => h is null ? (int?)null : BatchNumber(h)));
        Assert.Equal(2, _counters.DroppedUnreadable);
        Assert.Equal(1, _scope.Log.Count("cannot be written"));
    }

    [Fact]
    public void A_batchs_execution_stamp_is_kept_in_its_file_and_read_back_by_the_next_process()
    {
        var spool = Open();
        var integration = new ActiveExecution("exec-9", "integration-bsid", "Integration Tests", "created");
        spool.Append(Batch(1), new ExecutionStamp(StampKind.Execution, integration, FlushId: 4, WaitedForFirst: true));
        spool.Append(Batch(2), new ExecutionStamp(StampKind.Pending, integration, FlushId: 5, AfterGeneration: 3));

        var next = Open();
        var stamps = next.Oldest(10, long.MaxValue).Select(next.StampOf).ToList();

        Assert.Equal(2, next.Adopted);
        Assert.Equal((StampKind.Execution, integration, true), (stamps[0]!.Kind, stamps[0]!.Execution, stamps[0]!.WaitedForFirst));
        // A pending stamp of the earlier process waits for this one's first answer (generation 0).
        Assert.Equal((StampKind.Pending, 0L), (stamps[1]!.Kind, stamps[1]!.AfterGeneration));
        Assert.Equal([1, 2], next.Oldest(10, long.MaxValue).Select(e => BatchNumber(next.Read(e)!)));
    }
}
