using System.Text.Json.Nodes;
using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// The small values delivery decides with and reports: a batch's stamp (waiting, sendable, the
/// same request or not), the statistics' summary line and counters, the once-only log keys, and
/// the debug hits file (SL_DEBUG_HITS_FILE) people read. In-process, no server.
/// </summary>
public sealed class DeliveryValuesTests : IDisposable
{
    private static readonly ActiveExecution E1 = new("e-1", "bsid-a", "Stage A", "created");

    private readonly string _directory = Directory.CreateTempSubdirectory("sl-values-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(StampKind.Pending, true, false)]
    [InlineData(StampKind.BeforeFirstExecution, true, false)]
    [InlineData(StampKind.Execution, false, true)]
    [InlineData(StampKind.Collector, false, true)]
    [InlineData(StampKind.NoExecution, false, false)]
    [InlineData(StampKind.PendingDelete, false, false)]
    public void A_stamp_waits_goes_out_or_neither_by_its_kind(StampKind kind, bool waiting, bool sendable)
    {
        var stamp = new ExecutionStamp(kind, E1);

        Assert.Equal((waiting, sendable), (stamp.IsWaiting, stamp.IsSendable));
    }

    [Fact]
    public void Batches_share_a_request_only_with_the_same_execution_id_build_session_and_stage()
    {
        var stamp = new ExecutionStamp(StampKind.Execution, E1, FlushId: 1);

        // Another flush of the same execution: one request.
        Assert.True(stamp.SameDestination(new ExecutionStamp(StampKind.Execution, E1 with { Status = "pendingDelete" }, FlushId: 2)));
        Assert.False(stamp.SameDestination(new ExecutionStamp(StampKind.Execution, E1 with { ExecutionId = "e-2" })));
        Assert.False(stamp.SameDestination(new ExecutionStamp(StampKind.Execution, E1 with { BuildSessionId = "bsid-b" })));
        Assert.False(stamp.SameDestination(new ExecutionStamp(StampKind.Execution, E1 with { TestStage = "Stage B" })));
        Assert.False(stamp.SameDestination(new ExecutionStamp(StampKind.Execution)));
        Assert.False(new ExecutionStamp(StampKind.Execution).SameDestination(stamp));
        // Same execution, another kind (a dropped batch keeps its execution for the log).
        Assert.False(stamp.SameDestination(new ExecutionStamp(StampKind.NoExecution, E1)));
    }

    [Fact]
    public void Collector_batches_all_share_a_request_whatever_execution_they_carry()
    {
        Assert.True(new ExecutionStamp(StampKind.Collector).SameDestination(new ExecutionStamp(StampKind.Collector, E1)));
        Assert.False(new ExecutionStamp(StampKind.Collector).SameDestination(new ExecutionStamp(StampKind.Execution, E1)));
        Assert.False(new ExecutionStamp(StampKind.Execution, E1).SameDestination(new ExecutionStamp(StampKind.Collector, E1)));
    }

    [Fact]
    public void The_snapshot_reports_every_counter_as_its_own_figure()
    {
        var counters = new DeliveryCounters();
        DeliveryCounters.Add(ref counters.BatchesSpooled, 1);
        DeliveryCounters.Add(ref counters.MethodsSpooled, 2);
        DeliveryCounters.Add(ref counters.BatchesSent, 3);
        DeliveryCounters.Add(ref counters.MethodsSent, 4);
        DeliveryCounters.Add(ref counters.RequestsSent, 5);
        DeliveryCounters.Add(ref counters.FailedAttempts, 6);
        DeliveryCounters.Add(ref counters.DroppedSpoolFull, 7);
        DeliveryCounters.Add(ref counters.DroppedRejected, 8);
        DeliveryCounters.Add(ref counters.DroppedNoExecution, 9);
        DeliveryCounters.Add(ref counters.DroppedUnreadable, 10);
        DeliveryCounters.Add(ref counters.MethodsDropped, 11);
        DeliveryCounters.Add(ref counters.ExecutionQueries, 12);
        DeliveryCounters.Add(ref counters.UndeliveredAtShutdown, 13);
        DeliveryCounters.Add(ref counters.UndeliveredAtShutdown, 100);

        var s = counters.Snapshot(pending: 14, pendingBytes: 15, pendingInMemory: 16);

        Assert.Equal(
            new long[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 113, 14, 15, 16 },
            new[] { s.BatchesSpooled, s.MethodsSpooled, s.BatchesSent, s.MethodsSent, s.RequestsSent, s.FailedAttempts, s.DroppedSpoolFull, s.DroppedRejected,
                s.DroppedNoExecution, s.DroppedUnreadable, s.MethodsDropped, s.ExecutionQueries, s.UndeliveredAtShutdown, s.PendingBatches, s.PendingBytes, s.PendingInMemory });
        Assert.Equal(7 + 8 + 9 + 10, s.BatchesDropped);
    }

    [Fact]
    public void The_summary_line_names_each_figure()
    {
        var statistics = new DeliveryStatistics
        {
            BatchesSent = 1, MethodsSent = 2, RequestsSent = 3, PendingBatches = 4, FailedAttempts = 5,
            DroppedSpoolFull = 6, DroppedRejected = 7, DroppedNoExecution = 8, DroppedUnreadable = 9, MethodsDropped = 10,
        };

        Assert.Equal(
            "1 batches (2 methods) sent in 3 requests, 4 pending, 5 failed attempts, dropped: 6 spool full, 7 refused, 8 without execution, 9 unreadable (10 methods)",
            statistics.ToString());
        Assert.Equal(
            "1 batches (2 methods) sent in 3 requests, 4 pending (1 in memory), 5 failed attempts, dropped: 6 spool full, 7 refused, 8 without execution, 9 unreadable (10 methods)",
            (statistics with { PendingInMemory = 1 }).ToString());
    }

    [Fact]
    public void A_once_key_is_first_only_once_and_keys_are_independent()
    {
        var once = new OnceLog();

        Assert.True(once.First("refused-401"));
        Assert.False(once.First("refused-401"));
        Assert.True(once.First("refused-403"));
        Assert.False(once.First("refused-403"));
    }

    [Fact]
    public async Task The_hits_file_has_one_line_per_hit_and_a_closing_line_for_the_final_flush()
    {
        var path = Path.Combine(_directory, "hits.jsonl");
        var file = new HitsDumpFile(path);
        var at = new DateTimeOffset(2026, 12, 7, 13, 0, 0, 123, TimeSpan.FromHours(2));
        var method = Hits.Method(1, 0);
        var generated = Sealights.Coverage.MethodIdentity.ForMethod("App", "App.Program", "<Main>$", 0, [], "System.Void");

        await file.WriteAsync([new MethodHit(method, at)], isFinal: false, CancellationToken.None);
        await file.WriteAsync([new MethodHit(generated, at, at.AddSeconds(2))], isFinal: true, CancellationToken.None);
        await file.WriteAsync([], isFinal: true, CancellationToken.None);
        await file.WriteAsync([], isFinal: false, CancellationToken.None);

        var lines = await File.ReadAllLinesAsync(path);
        Assert.Equal(
        [
            "{\"method\":\"" + method.Id + "\",\"firstSeen\":\"2026-12-07T11:00:00.1230000Z\",\"flush\":1,\"final\":false}",
            // People read the file: '<' and '>' stay as they are.
            "{\"method\":\"" + generated.Id + "\",\"firstSeen\":\"2026-12-07T11:00:00.1230000Z\",\"lastSeen\":\"2026-12-07T11:00:02.1230000Z\",\"flush\":2,\"final\":true}",
            "{\"final\":true,\"flush\":2,\"hits\":1}",
            "{\"final\":true,\"flush\":3,\"hits\":0}",
        ], lines);
        Assert.Contains("<Main>$", lines[1], StringComparison.Ordinal);
        Assert.All(lines, l => JsonNode.Parse(l));
    }
}
