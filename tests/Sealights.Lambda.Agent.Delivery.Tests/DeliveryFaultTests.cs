using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>A real backend process that fails, hangs or is gone: nothing lost, nothing twice, budgets kept.</summary>
public sealed class DeliveryFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DeliveryScope _scope = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    [Fact]
    public async Task Backend_answering_500_three_times_then_ok_gets_every_batch_exactly_once()
    {
        var backend = await _scope.StartBackendAsync();
        await backend.SetModeAsync(new { mode = "error500", count = 3 });
        var delivery = _scope.Delivery(_scope.Options());

        for (var n = 1; n <= 5; n++)
        {
            await delivery.WriteBatchAsync(n);
            await delivery.SendPendingAsync(TimeSpan.FromMilliseconds(500));
        }
        await delivery.SendUntilDeliveredAsync();

        Assert.Equal(3, (int)(await backend.StatsAsync())["faulted"]!);
        var statistics = delivery.Statistics;
        Assert.Equal(3, statistics.FailedAttempts);
        Assert.Equal((5, 15, 0), (statistics.BatchesSent, statistics.MethodsSent, statistics.BatchesDropped));
        // Each of the 15 methods arrived once: a failed request's batches stay spooled, an accepted one's leave before the next pass.
        var delivered = backend.DeliveredMethods();
        Assert.Equal(15, delivered.Count);
        Assert.Equal(15, delivered.Distinct().Count());
        Assert.Equal([1, 2, 3, 4, 5], delivered.Select(Hits.BatchOf).Distinct());
        Assert.Equal(1, _scope.Log.Count("footprints not delivered"));
        Assert.Equal(1, _scope.Log.Count("footprints delivered again after 3 failed attempts"));
    }

    [Fact]
    public async Task Backend_down_for_20_batches_then_up_gets_all_of_them_in_order_and_none_twice()
    {
        var backend = await _scope.StartBackendAsync();
        // Several requests after the outage, so the order across requests is checked too.
        var delivery = _scope.Delivery(_scope.Options() with { MaxBatchesPerRequest = 6 });
        await delivery.WriteBatchAsync(0);
        await delivery.SendUntilDeliveredAsync();

        await backend.StopAsync();
        for (var n = 1; n <= 20; n++)
        {
            await delivery.WriteBatchAsync(n);
            await delivery.SendPendingAsync(TimeSpan.FromMilliseconds(100));
        }
        Assert.Equal(20, delivery.Statistics.PendingBatches);
        Assert.Equal(20, Directory.GetFiles(_scope.SpoolDirectory).Length);
        Assert.True(delivery.Statistics.FailedAttempts >= 1);
        Assert.Single(backend.FootprintsRecords());

        await backend.RestartAsync();
        await delivery.SendUntilDeliveredAsync();

        var delivered = backend.DeliveredMethods();
        Assert.Equal(21 * 3, delivered.Count);
        Assert.Equal(21 * 3, delivered.Distinct().Count());
        var batches = delivered.Select(Hits.BatchOf).ToList();
        Assert.Equal(batches.Order(), batches);
        Assert.True(backend.FootprintsRecords().Count >= 1 + 4, "20 batches at most 6 per request");
        Assert.Equal((21, 0), (delivery.Statistics.BatchesSent, delivery.Statistics.BatchesDropped));
        Assert.Empty(Directory.GetFiles(_scope.SpoolDirectory));
    }
}
