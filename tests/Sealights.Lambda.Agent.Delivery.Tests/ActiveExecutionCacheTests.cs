using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// The active execution query and the attribution of flushes (Delivery/README.md, the execution
/// answer and "Attribution"), answer by answer against a loopback server: what counts as an
/// answer and what as a failure, the 10 s freshness, and which kind of stamp a flush gets.
/// </summary>
public sealed class ActiveExecutionCacheTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(10);

    private readonly DeliveryScope _scope = new(output);
    private readonly LoopbackBackend _server = new();
    private readonly HttpClient _http = new();
    private readonly DeliveryCounters _counters = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        await _scope.DisposeAsync();
    }

    private static string Execution(string id, string status = "created", string? bsid = "exec-bsid", string? stage = "Functional Tests") =>
        "{\"execution\":{\"executionId\":\"" + id + "\",\"buildSessionId\":" + Json(bsid) + ",\"testStage\":" + Json(stage) + ",\"status\":\"" + status + "\"}}";

    private static string Json(string? value) => value is null ? "null" : $"\"{value}\"";

    /// <summary>Every request from now on gets this answer (held back <paramref name="hold"/> first).</summary>
    private void Answer(int status, string body = "", TimeSpan? hold = null) =>
        _server.Answer(_ => new LoopbackAnswer(status, body, hold ?? TimeSpan.Zero));

    private ActiveExecutionCache Cache(params (string Name, string Value)[] env)
    {
        _scope.UseServer(_server.Api);
        return new ActiveExecutionCache(_scope.Options(env), _scope.Token, _http, _scope.Log.Agent, _counters, _scope.Clock);
    }

    // Deadlines are on the agent's clock (the test's, shifted).
    private Task<ExecutionLookup> Ask(ActiveExecutionCache cache, TimeSpan? within = null) =>
        cache.GetAsync(_scope.Clock.GetUtcNow() + (within ?? TimeSpan.FromSeconds(5)), CancellationToken.None);

    [Fact]
    public async Task An_active_execution_is_asked_for_on_the_labs_route_and_kept_for_10_s()
    {
        var cache = Cache(("SL_LAB_ID", "lab-7"));
        Answer(200, Execution("e-1"));

        var first = await Ask(cache);

        Assert.False(first.Failed);
        Assert.Equal(new ActiveExecution("e-1", "exec-bsid", "Functional Tests", "created"), first.Execution);
        Assert.Equal(first.Execution, cache.Current);
        Assert.Equal(1, cache.Generation);
        Assert.NotNull(cache.AnsweredAt);
        Assert.Equal(["GET /api/v4/testExecution/lab-7/"], _server.Requests.Select(r => $"{r.Method} {r.Target}"));

        Answer(200, Execution("e-2"));
        _scope.Clock.Advance(Refresh - TimeSpan.FromSeconds(1));
        Assert.Equal("e-1", (await Ask(cache)).Execution!.ExecutionId);
        Assert.Single(_server.Requests);

        _scope.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("e-2", (await Ask(cache)).Execution!.ExecutionId);
        Assert.Equal(2, _server.Requests.Count);
        Assert.Equal(2, cache.Generation);
        Assert.Equal(2, Interlocked.Read(ref _counters.ExecutionQueries));
    }

    [Theory]
    [InlineData(404, "")]
    [InlineData(200, "")]
    [InlineData(200, """{"execution":null}""")]
    [InlineData(200, """{"execution":{"executionId":"e-1","status":"ended"}}""")]
    [InlineData(200, """{"execution":{"executionId":"e-1","status":"Closed"}}""")]
    [InlineData(200, """{"execution":{"executionId":"e-1","status":"deleted"}}""")]
    public async Task No_active_execution_is_an_answer_of_none(int status, string body)
    {
        var cache = Cache();
        Answer(status, body);

        var lookup = await Ask(cache);

        Assert.Equal(ExecutionLookup.None, lookup);
        Assert.Null(cache.Current);
        Assert.Equal(1, cache.Generation);
        Assert.Single(_scope.Log.Lines, l => l.Contains("has no active test execution yet", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_none_with_one_warning_however_often_it_comes()
    {
        var cache = Cache();
        Answer(200, "<html>maintenance</html>");

        Assert.Equal(ExecutionLookup.None, await Ask(cache));
        _scope.Clock.Advance(Refresh);
        Assert.Equal(ExecutionLookup.None, await Ask(cache));

        Assert.Equal(2, cache.Generation);
        Assert.Equal(1, _scope.Log.Count("WARN the active execution answer from"));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(429)]
    [InlineData(408)]
    public async Task A_retryable_status_is_a_failure_that_keeps_the_last_answer(int status)
    {
        var cache = Cache();
        Answer(200, Execution("e-1"));
        await Ask(cache);
        _scope.Clock.Advance(Refresh);
        Answer(status);

        var lookup = await Ask(cache);

        Assert.True(lookup.Failed);
        Assert.Equal($"active execution query answered {status}", lookup.Failure);
        Assert.Null(lookup.Execution);
        Assert.Equal("e-1", cache.Current!.ExecutionId);
        Assert.Equal(1, cache.Generation);
        // Not an answer: the next pass asks again.
        await Ask(cache);
        Assert.Equal(3, _server.Requests.Count);
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(400)]
    public async Task A_refusal_is_none_with_one_warning_per_status(int status)
    {
        var cache = Cache();
        Answer(status);

        Assert.Equal(ExecutionLookup.None, await Ask(cache));
        _scope.Clock.Advance(Refresh);
        Assert.Equal(ExecutionLookup.None, await Ask(cache));

        Assert.Equal(2, cache.Generation);
        Assert.Equal(1, _scope.Log.Count($"was refused with {status}; treated as no active execution"));
    }

    [Fact]
    public async Task Refusals_of_two_statuses_are_each_said_once_and_a_404_is_no_refusal()
    {
        var cache = Cache();

        foreach (var status in new[] { 404, 401, 403, 401 })
        {
            Answer(status);
            Assert.Equal(ExecutionLookup.None, await Ask(cache));
            _scope.Clock.Advance(Refresh);
        }

        // 404 is how the server says "no active execution": nothing refused.
        Assert.Equal(0, _scope.Log.Count("was refused with 404"));
        Assert.Equal(1, _scope.Log.Count("was refused with 401; treated as no active execution"));
        Assert.Equal(1, _scope.Log.Count("was refused with 403; treated as no active execution"));
    }

    [Fact]
    public async Task A_query_that_outlives_its_deadline_fails_as_timed_out()
    {
        var cache = Cache();
        Answer(200, Execution("e-1"), hold: TimeSpan.FromSeconds(20));

        var lookup = await Ask(cache, within: TimeSpan.FromMilliseconds(300));

        Assert.True(lookup.Failed);
        Assert.StartsWith("active execution query timed out after ", lookup.Failure);
        Assert.Equal(0, cache.Generation);
    }

    [Fact]
    public async Task A_query_with_time_to_spare_ends_at_the_request_timeout()
    {
        // The shorter of SL_REQUEST_TIMEOUT_MS and the time left: here the request timeout.
        var cache = Cache(("SL_REQUEST_TIMEOUT_MS", "300"));
        Answer(200, Execution("e-1"), hold: TimeSpan.FromSeconds(20));

        var lookup = await Ask(cache, within: TimeSpan.FromSeconds(30));

        Assert.Equal("active execution query timed out after 300 ms", lookup.Failure);
        Assert.Equal(0, cache.Generation);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_warned_about_once_in_three_answers()
    {
        var cache = Cache();
        Answer(200, "<html>maintenance</html>");

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(ExecutionLookup.None, await Ask(cache));
            _scope.Clock.Advance(Refresh);
        }

        Assert.Equal(1, _scope.Log.Count("WARN the active execution answer from"));
    }

    [Fact]
    public async Task The_same_execution_twice_then_none_is_no_execution_and_said_once()
    {
        var cache = Cache();
        Answer(200, Execution("e-1"));
        await Ask(cache);
        _scope.Clock.Advance(Refresh);
        await Ask(cache);
        _scope.Clock.Advance(Refresh);
        Answer(404);
        await Ask(cache);
        _scope.Clock.Advance(Refresh);
        await Ask(cache);

        // An execution was seen (twice): flushes now are dropped, not held for a first one.
        Assert.Equal(new ExecutionStamp(StampKind.NoExecution, FlushId: 1), cache.Stamp(1));
        Assert.Equal(1, _scope.Log.Count("has no active test execution any more"));
    }

    [Fact]
    public async Task No_time_left_means_no_query()
    {
        var cache = Cache();

        var lookup = await cache.GetAsync(_scope.Clock.GetUtcNow() - TimeSpan.FromSeconds(1), CancellationToken.None);

        Assert.Equal("no time left to ask for the active execution", lookup.Failure);
        Assert.Empty(_server.Requests);
        Assert.Equal(0, Interlocked.Read(ref _counters.ExecutionQueries));
    }

    [Fact]
    public async Task A_shutdown_cancels_the_query_as_cancelled_not_timed_out()
    {
        var cache = Cache();
        Answer(200, Execution("e-1"), hold: TimeSpan.FromSeconds(20));
        using var shutdown = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        var lookup = await cache.GetAsync(_scope.Clock.GetUtcNow() + TimeSpan.FromSeconds(10), shutdown.Token);

        Assert.Equal("active execution query cancelled (shutdown)", lookup.Failure);
    }

    [Fact]
    public async Task A_backend_that_is_not_there_is_a_failure()
    {
        _scope.UseServer("http://127.0.0.1:9/api");
        var cache = new ActiveExecutionCache(_scope.Options(), _scope.Token, _http, _scope.Log.Agent, _counters, _scope.Clock);

        var lookup = await Ask(cache);

        Assert.StartsWith("active execution query failed: ", lookup.Failure);
        Assert.Equal(0, cache.Generation);
    }

    [Fact]
    public async Task A_fixed_execution_id_is_never_asked_for_and_stamps_every_flush()
    {
        var cache = Cache(("SL_EXECUTION_ID", "fixed-1"), ("SL_TEST_STAGE", "Manual"));

        var lookup = await Ask(cache);
        var stamp = cache.Stamp(4);

        Assert.Equal(new ActiveExecution("fixed-1", "bsid-1", "Manual", "fixed"), lookup.Execution);
        Assert.Equal(new ExecutionStamp(StampKind.Execution, lookup.Execution, 4), stamp);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task A_collector_is_never_asked_and_every_flush_goes_to_it()
    {
        var cache = Cache(("SL_COLLECTOR_URL", _server.Api));

        Assert.Equal(ExecutionLookup.None, await Ask(cache));
        Assert.Equal(new ExecutionStamp(StampKind.Collector, FlushId: 3), cache.Stamp(3));
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task A_flush_with_a_fresh_answer_is_decided_at_once_and_with_a_stale_one_by_the_next_answer()
    {
        var cache = Cache();
        var unknown = cache.Stamp(1);
        Assert.Equal(new ExecutionStamp(StampKind.Pending, null, 1, 0), unknown);

        Answer(200, Execution("e-1"));
        await Ask(cache);
        var e1 = cache.Current;
        Assert.Equal(new ExecutionStamp(StampKind.Execution, e1, 1), cache.Resolve(unknown));
        Assert.Equal(new ExecutionStamp(StampKind.Execution, e1, 2), cache.Stamp(2));

        // Exactly 10 s old: stale.
        _scope.Clock.Advance(Refresh);
        var stale = cache.Stamp(3);
        Assert.Equal(new ExecutionStamp(StampKind.Pending, e1, 3, 1), stale);
        Assert.Same(stale, cache.Resolve(stale));

        Answer(200, Execution("e-2"));
        await Ask(cache);
        Assert.Equal(new ExecutionStamp(StampKind.Execution, cache.Current, 3), cache.Resolve(stale));
        Assert.Equal("e-2", cache.Current!.ExecutionId);
    }

    [Fact]
    public async Task Flushes_before_the_first_execution_wait_for_it_and_go_to_it_as_init_footprints()
    {
        var cache = Cache();
        Answer(200, "");
        await Ask(cache);

        var before = cache.Stamp(1);
        Assert.Equal(new ExecutionStamp(StampKind.BeforeFirstExecution, FlushId: 1), before);
        Assert.Same(before, cache.Resolve(before));

        _scope.Clock.Advance(Refresh);
        Answer(200, Execution("e-1"));
        await Ask(cache);

        Assert.Equal(new ExecutionStamp(StampKind.Execution, cache.Current, 1, WaitedForFirst: true), cache.Resolve(before));
        Assert.Equal(1, _scope.Log.Count("has no active test execution yet"));
        Assert.Equal(1, _scope.Log.Count("has an active test execution e-1 (Functional Tests, build session exec-bsid): footprints go to it"));
    }

    [Fact]
    public async Task Flushes_while_no_execution_is_active_after_one_was_seen_are_dropped()
    {
        var cache = Cache();
        Answer(200, Execution("e-1", bsid: null, stage: null));
        await Ask(cache);
        _scope.Clock.Advance(Refresh);
        Answer(404);
        await Ask(cache);

        Assert.Equal(new ExecutionStamp(StampKind.NoExecution, FlushId: 5), cache.Stamp(5));
        Assert.Equal(1, _scope.Log.Count("has an active test execution e-1 (no test stage, build session bsid-1)"));
        Assert.Equal(1, _scope.Log.Count("has no active test execution any more"));
        Assert.Equal(0, _scope.Log.Count("has no active test execution yet"));
    }

    [Fact]
    public async Task Pending_delete_gets_the_first_flush_decided_after_it_then_nothing_until_an_execution_is_active_again()
    {
        var cache = Cache();
        Answer(200, Execution("e-1"));
        await Ask(cache);
        _scope.Clock.Advance(Refresh);
        Answer(200, Execution("e-1", status: "PendingDelete"));
        await Ask(cache);
        var pending = cache.Current!;
        Assert.True(pending.IsPendingDelete);

        // Both batches of flush 7 (init and later methods) go; flush 8 does not.
        Assert.Equal(StampKind.Execution, cache.Stamp(7).Kind);
        Assert.Equal(new ExecutionStamp(StampKind.Execution, pending, 7), cache.Stamp(7));
        Assert.Equal(new ExecutionStamp(StampKind.PendingDelete, pending, 8), cache.Stamp(8));

        // The same answer again does not open another last flush.
        _scope.Clock.Advance(Refresh);
        await Ask(cache);
        Assert.Equal(StampKind.PendingDelete, cache.Stamp(9).Kind);
        Assert.Equal(1, _scope.Log.Count("test execution e-1 is pending deletion"));

        // Active again, then pending deletion again: another last flush.
        _scope.Clock.Advance(Refresh);
        Answer(200, Execution("e-1"));
        await Ask(cache);
        Assert.Equal(StampKind.Execution, cache.Stamp(10).Kind);
        _scope.Clock.Advance(Refresh);
        Answer(200, Execution("e-1", status: "pendingDelete"));
        await Ask(cache);
        Assert.Equal(StampKind.Execution, cache.Stamp(11).Kind);
        Assert.Equal(StampKind.PendingDelete, cache.Stamp(12).Kind);
        Assert.Equal(2, _scope.Log.Count("test execution e-1 is pending deletion"));
    }

    [Fact]
    public async Task A_pending_deletion_of_another_execution_opens_its_own_last_flush()
    {
        var cache = Cache();
        Answer(200, Execution("e-1", status: "pendingDelete"));
        await Ask(cache);
        Assert.Equal(StampKind.Execution, cache.Stamp(1).Kind);
        Assert.Equal(StampKind.PendingDelete, cache.Stamp(2).Kind);

        _scope.Clock.Advance(Refresh);
        Answer(200, Execution("e-2", status: "pendingDelete"));
        await Ask(cache);

        Assert.Equal(new ExecutionStamp(StampKind.Execution, cache.Current, 3), cache.Stamp(3));
        Assert.Equal(StampKind.PendingDelete, cache.Stamp(4).Kind);
    }

    [Fact]
    public async Task The_same_execution_again_is_not_logged_again_but_a_new_one_is()
    {
        var cache = Cache();
        Answer(200, Execution("e-1"));
        await Ask(cache);
        _scope.Clock.Advance(Refresh);
        await Ask(cache);
        _scope.Clock.Advance(Refresh);
        Answer(200, Execution("e-2"));
        await Ask(cache);

        Assert.Equal(1, _scope.Log.Count("has an active test execution e-1"));
        Assert.Equal(1, _scope.Log.Count("has an active test execution e-2"));
        Assert.Equal(3, cache.Generation);
    }
}
