using System.Text.Json.Nodes;
using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// Which execution a flush's hits go to once an execution has been seen (Delivery/README.md,
/// "Attribution"), asserted on what the real backend process received. A flush belongs to the
/// execution the agent knows at the flush when its answer is at most 10 s old, else to the first
/// answer after the flush; the scope's clock moves the 10 s along.
/// </summary>
public sealed class AttributionTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan PastTheCache = TimeSpan.FromSeconds(11);

    private readonly DeliveryScope _scope = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    private static string Header(JsonObject record, string name) => (string)record["headers"]![name]!;

    private static string BodyExecution(JsonObject record) => (string)record["body"]!["executions"]![0]!["executionId"]!;

    /// <summary>The batch numbers (see <see cref="Hits"/>) a footprints request carried, e.g. "1,2".</summary>
    private static string Batches(JsonObject record) =>
        string.Join(",", record["body"]!["methods"]!.AsArray().Select(m => Hits.BatchOf((string)m!)).Distinct());

    [Fact]
    public async Task An_execution_ends_hits_happen_a_new_one_opens_and_none_of_the_gaps_hits_reach_it()
    {
        var backend = await _scope.StartBackendAsync(execution: "exec-1");
        var delivery = _scope.Delivery(_scope.Options());

        await delivery.WriteBatchAsync(1);
        await delivery.SendUntilDeliveredAsync();

        await backend.SetModeAsync(new { mode = "active-execution", active = false });
        _scope.Clock.Advance(PastTheCache);
        await delivery.WriteBatchAsync(2);
        await delivery.SendUntilDeliveredAsync();
        await delivery.WriteBatchAsync(3);
        await delivery.SendUntilDeliveredAsync();

        await backend.SetModeAsync(new { mode = "active-execution", executionId = "exec-2", testStage = "Regression Tests" });
        _scope.Clock.Advance(PastTheCache);
        await delivery.WriteBatchAsync(4);
        await delivery.SendUntilDeliveredAsync();

        var records = backend.FootprintsRecords();
        Assert.Equal(2, records.Count);
        Assert.Equal(("exec-1", "Functional Tests", "1"), (BodyExecution(records[0]), (string?)records[0]["testStage"], Batches(records[0])));
        Assert.Equal(("exec-2", "Regression Tests", "4"), (BodyExecution(records[1]), (string?)records[1]["testStage"], Batches(records[1])));
        Assert.Equal("exec-2", Header(records[1], "x-sl-executionid"));
        Assert.DoesNotContain(backend.DeliveredMethods(), m => Hits.BatchOf(m) is 2 or 3);
        var statistics = delivery.Statistics;
        Assert.Equal((2, 6, 0), (statistics.DroppedNoExecution, statistics.MethodsDropped, statistics.PendingBatches));
        Assert.Equal(1, _scope.Log.Count("had no active test execution are dropped"));
        Assert.Empty(Directory.GetFiles(_scope.SpoolDirectory));
    }

    [Fact]
    public async Task Hits_flushed_within_10_s_of_the_last_answer_go_to_that_execution_never_to_the_next()
    {
        // The documented window: the agent cannot know sooner that exec-1 ended.
        var backend = await _scope.StartBackendAsync(execution: "exec-1");
        var delivery = _scope.Delivery(_scope.Options());
        await delivery.WriteBatchAsync(1);
        await delivery.SendUntilDeliveredAsync();

        await backend.SetModeAsync(new { mode = "active-execution", executionId = "exec-2" });
        _scope.Clock.Advance(TimeSpan.FromSeconds(5));
        await delivery.WriteBatchAsync(2);
        await delivery.SendUntilDeliveredAsync();
        _scope.Clock.Advance(PastTheCache);
        await delivery.WriteBatchAsync(3);
        await delivery.SendUntilDeliveredAsync();

        var records = backend.FootprintsRecords();
        Assert.Equal([("exec-1", "1"), ("exec-1", "2"), ("exec-2", "3")], records.Select(r => (BodyExecution(r), Batches(r))));
        Assert.Equal(2, backend.ExecutionQueries().Count);
    }

    [Fact]
    public async Task An_execution_switch_sends_the_old_executions_batches_first_on_its_own_route_header_and_body()
    {
        var backend = await _scope.StartBackendAsync(execution: "exec-1");
        var delivery = _scope.Delivery(_scope.Options());
        // Batch 1 is exec-1's but cannot be delivered yet.
        await backend.SetModeAsync(new { mode = "error500", count = 1 });
        await delivery.WriteBatchAsync(1);
        await Sending.UntilAsync(() => delivery.Statistics.FailedAttempts == 1, "the first attempt to fail");

        // exec-2 of another build session and stage: batch 2 is its.
        await backend.SetModeAsync(new { mode = "active-execution", executionId = "exec-2", buildSessionId = "integration-bsid", testStage = "Integration Tests" });
        _scope.Clock.Advance(PastTheCache);
        await delivery.WriteBatchAsync(2);
        await delivery.SendUntilDeliveredAsync();

        var records = backend.FootprintsRecords();
        Assert.Equal(2, records.Count);
        Assert.Equal("/api/v6/agents/bsid-1/footprints/Functional Tests/bsid-1/", (string?)records[0]["path"]);
        Assert.Equal(("exec-1", "exec-1", "1"), (Header(records[0], "x-sl-executionid"), BodyExecution(records[0]), Batches(records[0])));
        Assert.Equal("/api/v6/agents/integration-bsid/footprints/Integration Tests/bsid-1/", (string?)records[1]["path"]);
        Assert.Equal(("exec-2", "exec-2", "2"), (Header(records[1], "x-sl-executionid"), BodyExecution(records[1]), Batches(records[1])));
        Assert.All(records, r => Assert.Equal("bsid-1", Header(r, "x-sl-bsid")));
        Assert.Equal(0, delivery.Statistics.BatchesDropped);
    }

    [Fact]
    public async Task Pending_delete_gets_one_last_flush_then_nothing_until_an_execution_is_active_again()
    {
        var backend = await _scope.StartBackendAsync(execution: "exec-1");
        var delivery = _scope.Delivery(_scope.Options());
        await delivery.WriteBatchAsync(1);
        await delivery.SendUntilDeliveredAsync();

        await backend.SetModeAsync(new { mode = "active-execution", executionId = "exec-1", testStage = "Functional Tests", status = "pendingDelete" });
        _scope.Clock.Advance(PastTheCache);
        // The flush after the agent learns it: what was collected for exec-1 until then.
        await delivery.WriteBatchAsync(2);
        await delivery.SendUntilDeliveredAsync();
        await delivery.WriteBatchAsync(3);
        await delivery.SendUntilDeliveredAsync();
        _scope.Clock.Advance(PastTheCache);
        await delivery.WriteBatchAsync(4);
        await delivery.SendUntilDeliveredAsync();

        await backend.SetModeAsync(new { mode = "active-execution", executionId = "exec-3" });
        _scope.Clock.Advance(PastTheCache);
        await delivery.WriteBatchAsync(5);
        await delivery.SendUntilDeliveredAsync();

        var records = backend.FootprintsRecords();
        Assert.Equal([("exec-1", "1"), ("exec-1", "2"), ("exec-3", "5")], records.Select(r => (BodyExecution(r), Batches(r))));
        Assert.Equal((2, 6), (delivery.Statistics.DroppedNoExecution, delivery.Statistics.MethodsDropped));
        Assert.Equal(1, _scope.Log.Count("(pending deletion) are dropped"));
        Assert.Equal(1, _scope.Log.Count("is pending deletion: one last flush goes to it"));
    }

    [Fact]
    public async Task Writes_kick_a_background_send_at_most_once_per_flush_interval()
    {
        // With probes every invocation is written: a request after each would run beside the next.
        var backend = await _scope.StartBackendAsync(execution: "exec-1");
        var options = _scope.Options();
        var delivery = new FootprintsDelivery(options, _scope.Token, _scope.Log.Agent, _scope.Clock);
        await delivery.WriteBatchAsync(1);
        Assert.Equal(1, delivery.Statistics.BackgroundSendsKicked);
        await Sending.UntilAsync(() => backend.FootprintsRecords().Count == 1, "the first write's background send");
        // Until that pass has ended (a running pass takes what is written meanwhile, by design):
        // a send opportunity waits for it and finds nothing left.
        await delivery.SendPendingAsync(TimeSpan.FromSeconds(5));

        // The decision is taken inside the write: no send started, nothing to wait for.
        await delivery.WriteBatchAsync(2);
        Assert.Equal(1, delivery.Statistics.BackgroundSendsKicked);
        Assert.Equal(1, delivery.Statistics.PendingBatches);
        Assert.Single(backend.FootprintsRecords());

        _scope.Clock.Advance(options.FlushInterval);
        await delivery.WriteBatchAsync(3);
        Assert.Equal(2, delivery.Statistics.BackgroundSendsKicked);
        await Sending.UntilAsync(() => backend.FootprintsRecords().Count == 2, "the background send due again");
        Assert.Equal(["1", "2,3"], backend.FootprintsRecords().Select(Batches));
        await delivery.DisposeAsync();
    }

    [Fact]
    public async Task A_spool_half_full_is_sent_before_the_interval_is_up_so_a_busy_function_loses_no_batch()
    {
        // A warm function called back to back writes hundreds of batches a second: waiting for the
        // interval would fill the spool and drop the oldest (the bench: 3,000 invocations, 1,000 files).
        var backend = await _scope.StartBackendAsync(execution: "exec-1");
        var options = _scope.Options() with { SpoolMaxFiles = 10 };
        var delivery = new FootprintsDelivery(options, _scope.Token, _scope.Log.Agent, _scope.Clock);
        await delivery.WriteBatchAsync(1);
        await Sending.UntilAsync(() => backend.FootprintsRecords().Count == 1, "the first write's background send");
        await delivery.SendPendingAsync(TimeSpan.FromSeconds(5));

        // The clock stays put: no background send is due by the interval, only by the spool's fill.
        for (var batch = 2; batch <= 6; batch++)
        {
            await delivery.WriteBatchAsync(batch);
        }
        // The backend records a request before it answers; the batches leave the spool with the answer.
        await Sending.UntilAsync(() => backend.FootprintsRecords().Count == 2 && delivery.Statistics.PendingBatches == 0, "a send once half the spool's 10 files are taken");
        Assert.Equal(["1", "2,3,4,5,6"], backend.FootprintsRecords().Select(Batches));
        Assert.Equal(0, delivery.Statistics.DroppedSpoolFull);
        await delivery.DisposeAsync();
    }

    [Fact]
    public async Task A_batch_spooled_by_an_earlier_process_keeps_its_execution()
    {
        var backend = await _scope.StartBackendAsync(execution: "exec-1");
        var options = _scope.Options();
        var first = new FootprintsDelivery(options, _scope.Token, _scope.Log.Agent, _scope.Clock);
        await first.WriteBatchAsync(1);
        await first.SendUntilDeliveredAsync();
        await backend.SetModeAsync(new { mode = "error500", count = 100 });
        await first.WriteBatchAsync(2);
        // A send opportunity (a background send is due only once per SL_FLUSH_INTERVAL_SECONDS).
        await first.SendPendingAsync(TimeSpan.FromSeconds(5));
        await Sending.UntilAsync(() => first.Statistics.FailedAttempts >= 1, "batch 2 to fail");
        await first.DisposeAsync();

        await backend.SetModeAsync(new { mode = "ok" });
        await backend.SetModeAsync(new { mode = "active-execution", executionId = "exec-2" });
        var second = _scope.Delivery(options with { AgentId = Guid.NewGuid().ToString() });
        await second.SendUntilDeliveredAsync();

        var records = backend.FootprintsRecords();
        Assert.Equal([("exec-1", "1"), ("exec-1", "2")], records.Select(r => (BodyExecution(r), Batches(r))));
    }
}
