using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// The documented rules before the first execution (wait, then init footprints; the hold cap)
/// and for a failing execution query, against a real backend process. The rules after the first
/// execution: <see cref="AttributionTests"/>.
/// </summary>
public sealed class ExecutionRuleTests(ITestOutputHelper output) : IAsyncLifetime
{
    // These tests are about the rule, not the post-response budget (DeliveryTimingTests): each
    // send opportunity gets the scope's request timeout of real time for its loopback queries,
    // not the 300 ms default a busy CI machine once missed.
    private static readonly TimeSpan QueryBudget = TimeSpan.FromSeconds(2);

    private readonly DeliveryScope _scope = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    [Fact]
    public async Task Before_the_first_execution_batches_wait_and_go_to_it_as_init_footprints()
    {
        var backend = await _scope.StartBackendAsync(execution: null);
        var delivery = _scope.Delivery(_scope.Options(("SL_NO_EXECUTION_HOLD_SECONDS", "600")));
        // Both batches come after the first INVOKE: only the wait makes them init footprints.
        delivery.MarkFirstInvoke(DateTimeOffset.UtcNow.AddMinutes(-1));

        await delivery.WriteBatchAsync(1, methods: 2);
        Assert.Equal(SendOutcome.WaitingForExecution, await delivery.SendPendingAsync(QueryBudget));
        _scope.Clock.Advance(TimeSpan.FromSeconds(11));
        await delivery.WriteBatchAsync(2, methods: 2);
        Assert.Equal(SendOutcome.WaitingForExecution, await delivery.SendPendingAsync(QueryBudget));
        await backend.SetModeAsync(new { mode = "active-execution", executionId = "exec-late" });
        // Within 10 s of the last answer the backend is not asked again.
        Assert.Equal(SendOutcome.WaitingForExecution, await delivery.SendPendingAsync(QueryBudget));
        Assert.Equal(2, backend.ExecutionQueries().Count);
        Assert.Empty(backend.FootprintsRecords());
        Assert.Equal(2, delivery.Statistics.PendingBatches);

        _scope.Clock.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(SendOutcome.Delivered, await delivery.SendPendingAsync(QueryBudget));
        // Spooled within 10 s of that answer: goes to it, and is no init footprint.
        await delivery.WriteBatchAsync(3, methods: 2);
        await delivery.SendUntilDeliveredAsync();

        Assert.Equal(3, backend.ExecutionQueries().Count);
        var hits = backend.DeliveredHits();
        Assert.Equal([1, 1, 2, 2, 3, 3], hits.SelectMany(h => h.Methods).Select(Hits.BatchOf));
        Assert.Equal([true, true, false], hits.Select(h => h.Init));
        Assert.All(backend.FootprintsRecords(), r => Assert.Equal("exec-late", (string?)r["body"]!["executions"]![0]!["executionId"]));
        Assert.Equal(0, delivery.Statistics.BatchesDropped);
        Assert.Equal(1, _scope.Log.Count("has no active test execution yet: footprints wait for the first one"));
    }

    [Fact]
    public async Task Batches_that_waited_for_a_first_execution_longer_than_the_hold_are_dropped_counted_and_logged_once()
    {
        var backend = await _scope.StartBackendAsync(execution: null);
        var delivery = _scope.Delivery(_scope.Options(("SL_NO_EXECUTION_HOLD_SECONDS", "60")));

        await delivery.WriteBatchAsync(1, methods: 2);
        Assert.Equal(SendOutcome.WaitingForExecution, await delivery.SendPendingAsync(QueryBudget));
        _scope.Clock.Advance(TimeSpan.FromSeconds(45));
        await delivery.WriteBatchAsync(2, methods: 2);
        Assert.Equal(SendOutcome.WaitingForExecution, await delivery.SendPendingAsync(QueryBudget));
        Assert.Equal(0, delivery.Statistics.DroppedNoExecution);
        _scope.Clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(SendOutcome.WaitingForExecution, await delivery.SendPendingAsync(QueryBudget));
        Assert.Equal(1, delivery.Statistics.DroppedNoExecution);
        _scope.Clock.Advance(TimeSpan.FromSeconds(45));
        Assert.Equal(SendOutcome.Nothing, await delivery.SendPendingAsync(QueryBudget));

        var statistics = delivery.Statistics;
        Assert.Equal((2, 4, 0), (statistics.DroppedNoExecution, statistics.MethodsDropped, statistics.PendingBatches));
        Assert.Equal(1, _scope.Log.Count("had no active test execution within 60 s of the flush"));
        Assert.Empty(backend.FootprintsRecords());
        Assert.Empty(Directory.GetFiles(_scope.SpoolDirectory));
    }

    [Fact]
    public async Task A_hold_of_zero_drops_at_once()
    {
        await _scope.StartBackendAsync(execution: null);
        var delivery = _scope.Delivery(_scope.Options(("SL_NO_EXECUTION_HOLD_SECONDS", "0")));

        await delivery.WriteBatchAsync(1, methods: 2);
        await Sending.UntilAsync(() => delivery.Statistics.PendingBatches == 0, "the batch to be dropped");

        Assert.Equal(1, delivery.Statistics.DroppedNoExecution);
        Assert.Equal(0, delivery.Statistics.BatchesSent);
    }

    [Fact]
    public async Task An_execution_query_that_fails_backs_off_and_keeps_the_batches()
    {
        var backend = await _scope.StartBackendAsync();
        await backend.SetModeAsync(new { mode = "error500", scope = "all", count = 2 });
        var delivery = _scope.Delivery(_scope.Options());

        await delivery.WriteBatchAsync(1, methods: 2);
        await delivery.SendUntilDeliveredAsync();

        Assert.Equal(2, delivery.Statistics.FailedAttempts);
        Assert.Equal([1, 1], backend.DeliveredMethods().Select(Hits.BatchOf));
        Assert.Single(backend.ExecutionQueries());
    }
}
