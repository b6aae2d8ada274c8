using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// Runs alone: these tests run against budgets and deadlines (asserted by the outcomes and
/// events they lead to, not by elapsed time; speed is the bench's), and on a 2-core machine a
/// parallel test class plus starting backend processes delayed timer callbacks by up to 800 ms
/// (measured: a 200 ms SemaphoreSlim timeout returned after 983 ms while the pool's free
/// workers ran other tests' first-time code).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "timing";
}

/// <summary>Budgets and deadlines against a real backend process that hangs or fails.</summary>
[Collection(TimingCollection.Name)]
public sealed class DeliveryTimingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DeliveryScope _scope = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    [Fact]
    public async Task A_hanging_backend_never_holds_WriteAsync_and_SendPendingAsync_keeps_its_budget()
    {
        var backend = await _scope.StartBackendAsync();
        var delivery = _scope.Delivery(_scope.Options(("SL_REQUEST_TIMEOUT_MS", "10000"), ("SL_FLUSH_BUDGET_MS", "200")));
        await delivery.WriteBatchAsync(0);
        await delivery.SendUntilDeliveredAsync();
        await backend.SetModeAsync(new { mode = "hang", holdSeconds = 30, scope = "all" });

        for (var n = 1; n <= 3; n++)
        {
            // Neither call may wait for the hanging request, which ends only at its 10 s timeout:
            // the 5 s bounds below catch that wait, not a slow machine (the send's budget is 200 ms).
            // The send gives up (cut at its budget, backing off after that, or another pass holds the batches), never delivers.
            await delivery.WriteBatchAsync(n).WaitAsync(TimeSpan.FromSeconds(5));
            var outcome = await delivery.SendPendingAsync().WaitAsync(TimeSpan.FromSeconds(5));
            Assert.True(outcome is not (SendOutcome.Delivered or SendOutcome.Nothing), $"SendPendingAsync: {outcome}");
        }
        Assert.Equal(3, delivery.Statistics.PendingBatches);
        // The request the background pass has in flight ends at its own timeout as a failure, not a loss.
        await Sending.UntilAsync(() => delivery.Statistics.FailedAttempts >= 1, "the hanging request to time out", TimeSpan.FromSeconds(30));
        Assert.Equal(3, delivery.Statistics.PendingBatches);

        await backend.SetModeAsync(new { mode = "ok" });
        await delivery.SendUntilDeliveredAsync();

        var delivered = backend.DeliveredMethods();
        Assert.Equal(12, delivered.Count);
        Assert.Equal(12, delivered.Distinct().Count());
        Assert.Equal(0, delivery.Statistics.BatchesDropped);
    }

    [Fact]
    public async Task Drain_ignores_the_backoff_and_delivers_the_final_batch_by_the_deadline()
    {
        var backend = await _scope.StartBackendAsync();
        var delivery = _scope.Delivery(_scope.Options(("SL_RETRY_MIN_MS", "20000"), ("SL_RETRY_MAX_MS", "20000")));
        await backend.SetModeAsync(new { mode = "error500", count = 1 });
        await delivery.WriteBatchAsync(1);
        await Sending.UntilAsync(() => delivery.Statistics.FailedAttempts == 1, "the first attempt to fail");
        Assert.Equal(SendOutcome.BackingOff, await delivery.SendPendingAsync());
        await delivery.WriteBatchAsync(2, isFinal: true);

        // The backoff (20 s) is ten times the deadline: Delivered means the drain ignored it.
        var outcome = await delivery.DrainAsync(DateTimeOffset.UtcNow.AddSeconds(2));

        Assert.Equal(SendOutcome.Delivered, outcome);
        var hits = backend.FootprintsRecords().SelectMany(r => r["body"]!["executions"]![0]!["hits"]!.AsArray()).ToList();
        Assert.Equal(2, hits.Count);
        Assert.False((bool)hits[0]!["isFinalFootprints"]!);
        Assert.True((bool)hits[1]!["isFinalFootprints"]!);
        Assert.Equal(1, _scope.Log.Count("footprints delivery: 2 batches (6 methods) sent in 1 requests, 0 pending"));
    }

    [Fact]
    public async Task Drain_against_a_hanging_backend_returns_before_the_deadline_and_reports_what_is_left_once()
    {
        var backend = await _scope.StartBackendAsync();
        var delivery = _scope.Delivery(_scope.Options(("SL_REQUEST_TIMEOUT_MS", "10000")));
        await delivery.WriteBatchAsync(0);
        await delivery.SendUntilDeliveredAsync();
        await backend.SetModeAsync(new { mode = "hang", holdSeconds = 30 });
        await delivery.WriteBatchAsync(1);
        await delivery.WriteBatchAsync(2, isFinal: true);

        var deadline = DateTimeOffset.UtcNow.AddMilliseconds(1500);
        var outcome = await delivery.DrainAsync(deadline);

        Assert.True(DateTimeOffset.UtcNow < deadline, "the drain ran past its deadline");
        Assert.NotEqual(SendOutcome.Delivered, outcome);
        // The request a background pass had in flight (10 s timeout) was cut at deadline minus the margin, not left running.
        await Sending.UntilAsync(() => delivery.Statistics.FailedAttempts >= 1, "the in-flight request to be cut", TimeSpan.FromMilliseconds(500));
        var statistics = delivery.Statistics;
        Assert.Equal((2, 2), (statistics.PendingBatches, statistics.UndeliveredAtShutdown));
        Assert.Equal(2, Directory.GetFiles(_scope.SpoolDirectory).Length);
        Assert.Equal(1, _scope.Log.Count("2 footprints batches (6 methods) could not be delivered before shutdown"));
        Assert.Single(backend.FootprintsRecords());
    }
}
