using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Sealights.Images.Testing;
using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Sealights.Lambda.Agent.Footprints;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// The sender pass by pass against an in-process loopback server whose answers the test sets:
/// what goes in one request, what a retryable failure, a refusal, a timeout or a refused
/// connection does to the batches, the backoff and the log, the SHUTDOWN drain, and the drops of
/// batches that belong to no execution. DeliveryWireTests and DeliveryFaultTests check the same
/// against the test backend process; these need no process, so a mutation run can afford them.
/// </summary>
public sealed class FootprintsSenderTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string FixedRoute = "/api/v6/agents/bsid-1/footprints/Functional%20Tests/bsid-1/";

    // Log lines print the request's URI unescaped.
    private static readonly string LoggedRoute = "/api/v6/agents/bsid-1/footprints/Functional Tests/bsid-1/";

    private readonly DeliveryScope _scope = new(output);
    private readonly LoopbackBackend _backend = new();
    private readonly DeliveryCounters _counters = new();
    private FootprintsSender? _sender;
    private FootprintsSpool _spool = null!;
    private long _flushes;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_sender is not null)
        {
            await _sender.StopAsync();
            _sender.Dispose();
        }
        await _backend.DisposeAsync();
        await _scope.DisposeAsync();
    }

    private FootprintsSender Sender(Func<DeliveryOptions, DeliveryOptions>? change, params (string Name, string Value)[] env)
    {
        _scope.UseServer(_backend.Api);
        var options = _scope.Options([("SL_LAB_ID", "lab-1"), .. env]);
        options = change?.Invoke(options) ?? options;
        _spool = new FootprintsSpool(options, _scope.Log.Agent, _counters, _scope.Clock);
        _sender = new FootprintsSender(options, _scope.Token, _spool, _scope.Log.Agent, _counters, _scope.Clock);
        return _sender;
    }

    /// <summary>A sender whose batches go to the fixed execution exec-1 (no execution queries).</summary>
    private FootprintsSender FixedSender(params (string Name, string Value)[] env) => Sender(null, [("SL_EXECUTION_ID", "exec-1"), .. env]);

    private void Flush(int batch, int methods = 3)
    {
        var stamp = _sender!.Executions.Stamp(Interlocked.Increment(ref _flushes));
        var at = _scope.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        _spool.Append(new FootprintsHits(Enumerable.Range(0, methods).Select(i => Hits.Method(batch, i).Id).ToList(), at, at + 1, false, false), stamp);
    }

    private DateTimeOffset In(TimeSpan span) => _scope.Clock.GetUtcNow() + span;

    /// <summary>Asks for the active execution now (a pass with an empty spool asks nothing).</summary>
    private Task<ExecutionLookup> AskAsync() => _sender!.Executions.GetAsync(In(TimeSpan.FromSeconds(5)), CancellationToken.None);

    private Task<SendOutcome> SendAsync() => _sender!.SendPendingAsync(In(TimeSpan.FromSeconds(5)));

    /// <summary>A fixed sender's pass with batch 1, its request held by the backend for <paramref name="hold"/>: returned once that request has arrived.</summary>
    private async Task<Task<SendOutcome>> FirstPassHeldAsync(TimeSpan hold)
    {
        FixedSender();
        _backend.Answer(_ => new LoopbackAnswer(200, Hold: hold));
        Flush(1);
        var pass = SendAsync();
        await Sending.UntilAsync(() => _backend.Requests.Count == 1, "the first request");
        return pass;
    }

    private static string Execution(string id, string status = "created") =>
        "{\"execution\":{\"executionId\":\"" + id + "\",\"buildSessionId\":\"exec-bsid\",\"testStage\":\"Stage\",\"status\":\"" + status + "\"}}";

    private static JsonObject Document(LoopbackRequest request) => JsonNode.Parse(request.Body)!.AsObject();

    private static IEnumerable<int> BatchesIn(LoopbackRequest request) =>
        Document(request)["executions"]![0]!["hits"]!.AsArray().Select(h => Hits.BatchOf((string)Document(request)["methods"]![(int)h!["methods"]![0]!]!));

    /// <summary>The warnings that contain <paramref name="fragment"/>, without the log's prefix.</summary>
    private IEnumerable<string> Warnings(string fragment) =>
        _scope.Log.Lines.Where(l => l.Contains(" WARN ", StringComparison.Ordinal) && l.Contains(fragment, StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf(" WARN ", StringComparison.Ordinal) + 1)..]);

    private IReadOnlyList<LoopbackRequest> Footprints => _backend.Requests.Where(r => r.Method == "POST").ToList();

    [Fact]
    public async Task Pending_batches_go_oldest_first_in_one_request_to_their_execution_and_leave_the_spool()
    {
        FixedSender();
        Flush(1, methods: 2);
        Flush(2, methods: 3);

        Assert.Equal(SendOutcome.Delivered, await SendAsync());

        var request = Assert.Single(_backend.Requests);
        Assert.Equal(("POST", FixedRoute), (request.Method, request.Target));
        Assert.Equal("exec-1", request.Header("x-sl-executionId"));
        Assert.Equal("exec-1", (string?)Document(request)["executions"]![0]!["executionId"]);
        Assert.Equal([1, 2], BatchesIn(request));
        Assert.Equal(0, _spool.Count);
        Assert.Equal((2, 5, 1), (Interlocked.Read(ref _counters.BatchesSent), Interlocked.Read(ref _counters.MethodsSent), Interlocked.Read(ref _counters.RequestsSent)));
        Assert.Equal(1, _scope.Log.Count("DEBUG delivered 2 footprints batches (5 methods) to execution exec-1"));
        // Nothing failed before: no "delivered again" line.
        Assert.Equal(0, _scope.Log.Count("delivered again"));
        Assert.Equal(SendOutcome.Nothing, await SendAsync());
        Assert.Single(_backend.Requests);
    }

    [Fact]
    public async Task A_request_holds_at_most_the_batch_cap_and_a_pass_sends_them_all()
    {
        Sender(o => o with { MaxBatchesPerRequest = 2 }, ("SL_EXECUTION_ID", "exec-1"));
        for (var b = 1; b <= 5; b++)
        {
            Flush(b);
        }

        Assert.Equal(SendOutcome.Delivered, await SendAsync());

        Assert.Equal([[1, 2], [3, 4], [5]], Footprints.Select(r => BatchesIn(r).ToArray()));
        Assert.Equal(3, Interlocked.Read(ref _counters.RequestsSent));
    }

    [Fact]
    public async Task A_request_holds_at_most_the_byte_cap()
    {
        Sender(null, ("SL_EXECUTION_ID", "exec-1"));
        Flush(1);
        var size = _spool.Oldest(1, long.MaxValue)[0].Size;
        await _sender!.StopAsync();
        _sender.Dispose();
        // Room for exactly two batches of this size.
        Sender(o => o with { MaxRequestBytes = 2 * size }, ("SL_EXECUTION_ID", "exec-1"));
        for (var b = 2; b <= 4; b++)
        {
            Flush(b);
        }

        Assert.Equal(SendOutcome.Delivered, await SendAsync());

        Assert.Equal([[1, 2], [3, 4]], Footprints.Select(r => BatchesIn(r).ToArray()));
    }

    [Fact]
    public async Task A_retryable_answer_keeps_the_batches_and_backs_off_exponentially_up_to_the_cap()
    {
        FixedSender(("SL_RETRY_MIN_MS", "1000"), ("SL_RETRY_MAX_MS", "3000"));
        _backend.Answer(_ => new LoopbackAnswer(503));
        Flush(1);

        async Task Fails(int attempt, double fullDelayMs)
        {
            var before = _scope.Clock.GetUtcNow();
            Assert.Equal(SendOutcome.Failed, await SendAsync());
            var after = _scope.Clock.GetUtcNow();
            Assert.Equal(attempt, _sender!.ConsecutiveFailures);
            // Jitter: between half and all of the delay.
            Assert.InRange(_sender.NextAttemptAt, before + TimeSpan.FromMilliseconds(fullDelayMs / 2), after + TimeSpan.FromMilliseconds(fullDelayMs));
            Assert.Equal(SendOutcome.BackingOff, await SendAsync());
            Assert.Equal(attempt, _backend.Requests.Count);
            _scope.Clock.Advance(TimeSpan.FromMilliseconds(fullDelayMs));
        }

        await Fails(1, 1000);
        await Fails(2, 2000);
        await Fails(3, 3000);
        await Fails(4, 3000);

        Assert.Equal(1, _spool.Count);
        Assert.Equal(4, Interlocked.Read(ref _counters.FailedAttempts));
        Assert.Equal(1, _scope.Log.Count($"WARN footprints not delivered (http://127.0.0.1:{_backend.Port}{LoggedRoute} answered 503); 1 batches kept in the spool, retried later with backoff"));
        Assert.Equal(1, _scope.Log.Count($"DEBUG footprints still not delivered (http://127.0.0.1:{_backend.Port}{LoggedRoute} answered 503); attempt 2, next in "));

        _backend.Answer(_ => new LoopbackAnswer(200));
        Assert.Equal(SendOutcome.Delivered, await SendAsync());
        Assert.Equal(0, _sender!.ConsecutiveFailures);
        Assert.Equal(DateTimeOffset.MinValue, _sender.NextAttemptAt);
        Assert.Equal(1, _scope.Log.Count("INFO footprints delivered again after 4 failed attempts"));
        // A later failure is the first of a new series: said again at WARN, with the first delay.
        _backend.Answer(_ => new LoopbackAnswer(500));
        Flush(2);
        var start = _scope.Clock.GetUtcNow();
        Assert.Equal(SendOutcome.Failed, await SendAsync());
        Assert.InRange(_sender.NextAttemptAt, start + TimeSpan.FromMilliseconds(500), _scope.Clock.GetUtcNow() + TimeSpan.FromMilliseconds(1000));
        Assert.Equal(2, _scope.Log.Count("WARN footprints not delivered ("));
    }

    [Theory]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(502)]
    public async Task Timeouts_throttling_and_server_errors_are_retried(int status)
    {
        FixedSender();
        _backend.Answer(_ => new LoopbackAnswer(status));
        Flush(1);

        Assert.Equal(SendOutcome.Failed, await SendAsync());

        Assert.Equal(1, _spool.Count);
        Assert.Equal(0, Interlocked.Read(ref _counters.DroppedRejected));
    }

    [Theory]
    [InlineData(300)]
    [InlineData(301)]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(404)]
    [InlineData(413)]
    public async Task Other_answers_drop_the_batches_counted_and_said_once_per_status(int status)
    {
        FixedSender();
        _backend.Answer(_ => new LoopbackAnswer(status));
        Flush(1, methods: 2);
        Flush(2, methods: 4);

        Assert.Equal(SendOutcome.Delivered, await SendAsync());
        Flush(3, methods: 1);
        Assert.Equal(SendOutcome.Delivered, await SendAsync());

        Assert.Equal(0, _spool.Count);
        Assert.Equal((3, 7), (Interlocked.Read(ref _counters.DroppedRejected), Interlocked.Read(ref _counters.MethodsDropped)));
        Assert.Equal(0, Interlocked.Read(ref _counters.BatchesSent));
        Assert.Equal(0, _sender!.ConsecutiveFailures);
        Assert.Equal([$"WARN http://127.0.0.1:{_backend.Port}{LoggedRoute} refused footprints with {status}: 2 batches (6 methods) dropped; further refusals with {status} are counted without a log line"],
            Warnings("refused footprints"));
    }

    [Theory]
    [InlineData(200, false)]
    [InlineData(299, false)]
    [InlineData(407, false)]
    [InlineData(408, true)]
    [InlineData(428, false)]
    [InlineData(429, true)]
    [InlineData(430, false)]
    [InlineData(499, false)]
    [InlineData(500, true)]
    [InlineData(599, true)]
    public void Only_408_429_and_5xx_are_worth_retrying(int status, bool retryable)
    {
        Assert.Equal(retryable, FootprintsSender.IsRetryable(status));
    }

    [Fact]
    public async Task An_answer_that_does_not_come_in_time_is_a_failure_that_says_how_long_it_waited()
    {
        FixedSender(("SL_REQUEST_TIMEOUT_MS", "300"));
        _backend.Answer(_ => new LoopbackAnswer(200, Hold: TimeSpan.FromSeconds(10)));
        Flush(1);

        Assert.Equal(SendOutcome.Failed, await SendAsync());

        Assert.Equal(1, _spool.Count);
        Assert.Equal(1, _scope.Log.Count($"WARN footprints not delivered (http://127.0.0.1:{_backend.Port}{LoggedRoute} did not answer within 300 ms); 1 batches kept"));
    }

    [Fact]
    public async Task A_request_ends_by_the_passs_deadline_when_that_comes_before_the_request_timeout()
    {
        FixedSender(("SL_REQUEST_TIMEOUT_MS", "20000"));
        _backend.Answer(_ => new LoopbackAnswer(200, Hold: TimeSpan.FromSeconds(30)));
        Flush(1);
        var waited = Stopwatch.StartNew();

        Assert.Equal(SendOutcome.Failed, await _sender!.SendPendingAsync(In(TimeSpan.FromMilliseconds(400))));

        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), $"the pass took {waited.Elapsed}");
        Assert.Equal(1, _scope.Log.Count("did not answer within"));
        Assert.Equal(0, _scope.Log.Count("did not answer within 20000 ms"));
    }

    [Fact]
    public async Task A_refused_connection_is_a_failure_named_by_its_kind()
    {
        _scope.UseServer($"http://127.0.0.1:{FreePorts.Next()}/api");
        var options = _scope.Options(("SL_EXECUTION_ID", "exec-1"));
        _spool = new FootprintsSpool(options, _scope.Log.Agent, _counters, _scope.Clock);
        _sender = new FootprintsSender(options, _scope.Token, _spool, _scope.Log.Agent, _counters, _scope.Clock);
        Flush(1);

        Assert.Equal(SendOutcome.Failed, await SendAsync());

        Assert.Equal(1, _scope.Log.Count($"footprints/Functional Tests/bsid-1/: {HttpRequestError.ConnectionError}: Connection refused"));
        Assert.Equal(1, _spool.Count);
    }

    [Fact]
    public async Task A_pass_with_no_time_left_tries_nothing()
    {
        FixedSender();
        Flush(1);

        Assert.Equal(SendOutcome.OutOfTime, await _sender!.SendPendingAsync(In(TimeSpan.Zero)));
        Assert.Equal(SendOutcome.OutOfTime, await _sender.SendPendingAsync(In(TimeSpan.FromSeconds(-1))));

        Assert.Empty(_backend.Requests);
    }

    [Fact]
    public async Task A_second_pass_while_one_runs_is_busy_and_a_kick_meanwhile_runs_again_after_it()
    {
        var first = await FirstPassHeldAsync(TimeSpan.FromSeconds(1));

        Assert.Equal(SendOutcome.Busy, await _sender!.SendPendingAsync(In(TimeSpan.FromMilliseconds(100))));
        _backend.Answer(_ => new LoopbackAnswer(200));
        Flush(2);
        _sender.Kick();
        Assert.Equal(SendOutcome.Delivered, await first);
        // The first pass took batch 2 as well, or the kick's pass after it did.
        await Sending.UntilAsync(() => _spool.Count == 0, "batch 2 delivered");
        Assert.Equal(2, Interlocked.Read(ref _counters.BatchesSent));
    }

    [Fact]
    public async Task A_kick_during_a_pass_that_runs_out_of_time_sends_what_it_left_in_the_background()
    {
        var pass = await FirstPassHeldAsync(TimeSpan.FromSeconds(1));
        Flush(2);
        _backend.Answer(_ => new LoopbackAnswer(200));
        _sender!.Kick();
        // The pass's deadline is past when its request returns: it leaves batch 2 to the kick.
        _scope.Clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(SendOutcome.OutOfTime, await pass);

        await Sending.UntilAsync(() => _spool.Count == 0, "batch 2 sent by the kick's pass");
        Assert.Equal([[1], [2]], Footprints.Select(r => BatchesIn(r).ToArray()));
    }

    [Fact]
    public async Task A_pass_that_has_run_longer_than_the_wait_is_not_waited_for()
    {
        var first = await FirstPassHeldAsync(TimeSpan.FromSeconds(1));
        // The running pass looks a minute old: a stuck request, not worth the 5 s of this opportunity.
        _scope.Clock.AdvanceTimestamps(TimeSpan.FromMinutes(1));

        Assert.Equal(SendOutcome.Busy, await SendAsync());

        Assert.Equal(SendOutcome.Delivered, await first);
    }

    [Fact]
    public async Task Waits_without_a_deadline_are_bounded_to_what_a_timer_takes()
    {
        var first = await FirstPassHeldAsync(TimeSpan.FromMilliseconds(500));

        // Waits for the running pass (longer than a timer can take, so clamped), which delivered batch 1.
        Assert.Equal(SendOutcome.Nothing, await _sender!.SendPendingAsync(DateTimeOffset.MaxValue));
        Assert.Equal(SendOutcome.Delivered, await first);
        Flush(2);
        _backend.Answer(_ => new LoopbackAnswer(200));
        Assert.Equal(SendOutcome.Delivered, await _sender.DrainAsync(DateTimeOffset.MaxValue));
        Assert.Equal(0, _spool.Count);
    }

    [Fact]
    public async Task A_kick_sends_in_the_background()
    {
        FixedSender();
        Flush(1);

        _sender!.Kick();

        await Sending.UntilAsync(() => _spool.Count == 0, "the background pass");
        Assert.Single(_backend.Requests);
    }

    [Fact]
    public async Task The_drain_ignores_the_backoff_and_delivers()
    {
        FixedSender(("SL_RETRY_MIN_MS", "60000"), ("SL_RETRY_MAX_MS", "60000"));
        _backend.Answer(_ => new LoopbackAnswer(503));
        Flush(1);
        Assert.Equal(SendOutcome.Failed, await SendAsync());
        _backend.Answer(_ => new LoopbackAnswer(200));

        Assert.Equal(SendOutcome.Delivered, await _sender!.DrainAsync(In(TimeSpan.FromSeconds(5))));

        Assert.Equal(0, _spool.Count);
        Assert.Equal(0, _scope.Log.Count("before shutdown"));
        Assert.Equal(0, Interlocked.Read(ref _counters.UndeliveredAtShutdown));
        Assert.Equal(2, _backend.Requests.Count);
    }

    [Fact]
    public async Task The_drain_retries_with_pauses_until_its_deadline_then_counts_and_says_what_is_left()
    {
        FixedSender();
        _backend.Answer(_ => new LoopbackAnswer(503));
        Flush(1, methods: 2);
        Flush(2, methods: 3);
        var waited = Stopwatch.StartNew();

        Assert.Equal(SendOutcome.OutOfTime, await _sender!.DrainAsync(In(TimeSpan.FromMilliseconds(1200))));

        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(5), $"the drain took {waited.Elapsed}");
        // Pauses of 50, 100, 200, 400 ms within the 1.1 s before the margin: up to 5 attempts
        // (at least 2 also when a loaded machine makes each request slow).
        Assert.InRange(_backend.Requests.Count, 2, 6);
        Assert.Equal(2, Interlocked.Read(ref _counters.UndeliveredAtShutdown));
        Assert.Equal(1, _scope.Log.Count($"WARN 2 footprints batches (5 methods) could not be delivered before shutdown: http://127.0.0.1:{_backend.Port}{LoggedRoute} answered 503"));
    }

    [Fact]
    public async Task A_drain_past_its_deadline_sends_nothing_and_says_why()
    {
        FixedSender();
        Flush(1);

        Assert.Equal(SendOutcome.OutOfTime, await _sender!.DrainAsync(In(TimeSpan.FromMilliseconds(50))));

        Assert.Empty(_backend.Requests);
        Assert.Equal(1, _scope.Log.Count("WARN 1 footprints batches (3 methods) could not be delivered before shutdown: no time left before the shutdown deadline"));
    }

    [Fact]
    public async Task A_drain_cuts_a_stuck_background_pass_loose_and_sends_in_the_time_left()
    {
        FixedSender(("SL_REQUEST_TIMEOUT_MS", "60000"));
        _backend.Answer(_ => new LoopbackAnswer(200, Hold: TimeSpan.FromSeconds(30)));
        Flush(1);
        _sender!.Kick();
        await Sending.UntilAsync(() => _backend.Requests.Count == 1, "the stuck request");
        _backend.Answer(_ => new LoopbackAnswer(200));
        var waited = Stopwatch.StartNew();

        Assert.Equal(SendOutcome.Delivered, await _sender.DrainAsync(In(TimeSpan.FromSeconds(3))));

        // Not the 30 s the stuck request is held (a loaded machine may add a little to the 3 s).
        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), $"the drain took {waited.Elapsed}");
        Assert.Equal(0, _spool.Count);
        Assert.Equal(2, _backend.Requests.Count);
        Assert.Equal(1, _scope.Log.Count($"WARN footprints not delivered (the request to http://127.0.0.1:{_backend.Port}{LoggedRoute} was cut for the shutdown drain); 1 batches kept"));
    }

    [Fact]
    public async Task Batches_that_wait_for_a_first_execution_go_to_it_as_init_footprints()
    {
        Sender(null);
        _backend.Answer(_ => new LoopbackAnswer(404));
        Flush(1);

        Assert.Equal(SendOutcome.WaitingForExecution, await SendAsync());
        Assert.Equal(1, _spool.Count);

        _backend.Answer(r => r.Method == "GET" ? new LoopbackAnswer(200, Execution("e-1")) : new LoopbackAnswer(200));
        _scope.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(SendOutcome.Delivered, await SendAsync());

        var request = Assert.Single(Footprints);
        Assert.Equal("/api/v6/agents/exec-bsid/footprints/Stage/bsid-1/", request.Target);
        Assert.Equal("e-1", request.Header("x-sl-executionId"));
        Assert.True((bool)Document(request)["executions"]![0]!["hits"]![0]!["isInitFootprints"]!);
    }

    [Fact]
    public async Task A_drain_while_the_lab_has_no_execution_says_so()
    {
        Sender(null);
        _backend.Answer(_ => new LoopbackAnswer(404));
        Flush(1);

        Assert.Equal(SendOutcome.WaitingForExecution, await _sender!.DrainAsync(In(TimeSpan.FromSeconds(3))));

        Assert.Equal(1, _scope.Log.Count("WARN 1 footprints batches (3 methods) could not be delivered before shutdown: lab lab-1 has no active test execution"));
    }

    [Fact]
    public async Task Batches_of_different_executions_go_in_separate_requests_in_spool_order()
    {
        Sender(null);
        _backend.Answer(r => r.Method == "GET" ? new LoopbackAnswer(200, Execution("e-1")) : new LoopbackAnswer(200));
        await AskAsync();
        Flush(1);
        Flush(2);
        _scope.Clock.Advance(TimeSpan.FromSeconds(10));
        _backend.Answer(r => r.Method == "GET" ? new LoopbackAnswer(200, Execution("e-2")) : new LoopbackAnswer(200));
        await AskAsync();
        Flush(3);

        Assert.Equal(SendOutcome.Delivered, await SendAsync());

        Assert.Equal(["e-1", "e-2"], Footprints.Select(r => r.Header("x-sl-executionId")));
        Assert.Equal([[1, 2], [3]], Footprints.Select(r => BatchesIn(r).ToArray()));
    }

    [Fact]
    public async Task A_failed_execution_query_is_a_failed_attempt_with_backoff()
    {
        Sender(null, ("SL_RETRY_MIN_MS", "60000"), ("SL_RETRY_MAX_MS", "60000"));
        _backend.Answer(_ => new LoopbackAnswer(503));
        Flush(1);

        Assert.Equal(SendOutcome.Failed, await SendAsync());

        Assert.Equal(1, _sender!.ConsecutiveFailures);
        Assert.Equal(1, Interlocked.Read(ref _counters.FailedAttempts));
        Assert.Empty(Footprints);
        Assert.Equal(SendOutcome.BackingOff, await SendAsync());
    }

    [Fact]
    public async Task Footprints_collected_while_the_lab_had_no_execution_are_dropped_and_said_once()
    {
        Sender(null);
        _backend.Answer(r => r.Method == "GET" ? new LoopbackAnswer(200, Execution("e-1")) : new LoopbackAnswer(200));
        await AskAsync();
        _scope.Clock.Advance(TimeSpan.FromSeconds(10));
        _backend.Answer(r => r.Method == "GET" ? new LoopbackAnswer(404) : new LoopbackAnswer(200));
        await AskAsync();
        Flush(1, methods: 2);
        Flush(2, methods: 3);

        Assert.Equal(SendOutcome.Nothing, await SendAsync());
        Flush(3, methods: 4);
        Assert.Equal(SendOutcome.Nothing, await SendAsync());

        Assert.Empty(Footprints);
        Assert.Equal((3, 9), (Interlocked.Read(ref _counters.DroppedNoExecution), Interlocked.Read(ref _counters.MethodsDropped)));
        Assert.Equal(["WARN footprints collected while lab lab-1 had no active test execution are dropped (2 batches, 5 methods): they belong to no test run; further drops are counted without a log line"],
            Warnings("dropped"));
    }

    [Fact]
    public async Task After_a_pending_deletions_last_flush_later_flushes_are_dropped_and_said_once()
    {
        Sender(null);
        _backend.Answer(r => r.Method == "GET" ? new LoopbackAnswer(200, Execution("e-1", "pendingDelete")) : new LoopbackAnswer(200));
        await AskAsync();
        Flush(1);
        Flush(2, methods: 2);
        Flush(3, methods: 1);

        Assert.Equal(SendOutcome.Delivered, await SendAsync());

        Assert.Equal([[1]], Footprints.Select(r => BatchesIn(r).ToArray()));
        Assert.Equal((2, 3), (Interlocked.Read(ref _counters.DroppedNoExecution), Interlocked.Read(ref _counters.MethodsDropped)));
        Assert.Equal(["WARN footprints collected after the last flush of test execution e-1 (pending deletion) are dropped (2 batches) until an execution is active again; further drops are counted without a log line"],
            Warnings("dropped"));
    }

    [Fact]
    public async Task Footprints_wait_for_a_first_execution_for_the_hold_then_are_dropped_and_said_once()
    {
        Sender(null, ("SL_NO_EXECUTION_HOLD_SECONDS", "60"));
        _backend.Answer(_ => new LoopbackAnswer(404));
        Flush(1);
        Flush(2, methods: 2);

        _scope.Clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(SendOutcome.WaitingForExecution, await SendAsync());
        Assert.Equal(2, _spool.Count);
        _scope.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(SendOutcome.Nothing, await SendAsync());
        Flush(3);
        _scope.Clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(SendOutcome.Nothing, await SendAsync());

        Assert.Equal(0, _spool.Count);
        Assert.Equal((3, 8), (Interlocked.Read(ref _counters.DroppedNoExecution), Interlocked.Read(ref _counters.MethodsDropped)));
        Assert.Equal(["WARN lab lab-1 had no active test execution within 60 s of the flush (SL_NO_EXECUTION_HOLD_SECONDS): 2 footprints batches collected before the first execution dropped; further drops are counted without a log line"],
            Warnings("dropped"));
    }

    [Fact]
    public async Task A_hold_of_zero_drops_footprints_collected_before_the_first_execution_at_once()
    {
        Sender(null, ("SL_NO_EXECUTION_HOLD_SECONDS", "0"));
        _backend.Answer(_ => new LoopbackAnswer(404));
        Flush(1);

        Assert.Equal(SendOutcome.Nothing, await SendAsync());

        Assert.Equal(0, _spool.Count);
        Assert.Equal(1, _scope.Log.Count("within 0 s of the flush"));
    }

    [Fact]
    public async Task Each_refusing_status_is_said_once_on_its_own()
    {
        FixedSender();
        _backend.Answer(_ => new LoopbackAnswer(401));
        Flush(1);
        await SendAsync();
        _backend.Answer(_ => new LoopbackAnswer(404));
        Flush(2);

        await SendAsync();

        Assert.Equal(1, _scope.Log.Count("refused footprints with 401: 1 batches (3 methods) dropped"));
        Assert.Equal(1, _scope.Log.Count("refused footprints with 404: 1 batches (3 methods) dropped"));
    }

    [Fact]
    public async Task A_collector_gets_the_batches_without_an_execution_and_with_the_agents_config()
    {
        _scope.UseServer("https://acme.sealights.co/api");
        var options = _scope.Options(("SL_LAB_ID", "lab-1"), ("SL_COLLECTOR_URL", $"http://127.0.0.1:{_backend.Port}/collector"));
        options.Metadata.Learn("orders", "main", "7");
        _spool = new FootprintsSpool(options, _scope.Log.Agent, _counters, _scope.Clock);
        _sender = new FootprintsSender(options, _scope.Token, _spool, _scope.Log.Agent, _counters, _scope.Clock);
        Flush(1);

        Assert.Equal(SendOutcome.Delivered, await SendAsync());

        var request = Assert.Single(_backend.Requests);
        Assert.Equal(("POST", "/collector/v6/agents/bsid-1/footprints"), (request.Method, request.Target));
        Assert.Null(request.Header("x-sl-executionId"));
        var document = Document(request);
        Assert.False(document["executions"]![0]!.AsObject().ContainsKey("executionId"));
        Assert.Equal("agent", (string?)document["meta"]!["footprintsMapping"]);
        Assert.Equal(("orders", "main", "7", "lab-1"),
            ((string?)document["meta"]!["agentConfig"]!["appName"], (string?)document["meta"]!["agentConfig"]!["branch"], (string?)document["meta"]!["agentConfig"]!["build"], (string?)document["meta"]!["agentConfig"]!["labId"]));
        Assert.Equal(1, _scope.Log.Count("DEBUG delivered 1 footprints batches (3 methods) to the collector"));
    }

    [Fact]
    public async Task Batches_to_an_execution_carry_no_agent_config()
    {
        FixedSender();
        Flush(1);

        await SendAsync();

        var meta = Document(Assert.Single(_backend.Requests))["meta"]!.AsObject();
        Assert.False(meta.ContainsKey("agentConfig"));
        Assert.False(meta.ContainsKey("footprintsMapping"));
    }

    [Theory]
    [InlineData(2000, 2000)]
    [InlineData(5000, 5000)]
    [InlineData(9000, 5000)]
    public void The_handler_connects_within_the_request_timeout_at_most_5_s_and_never_follows_redirects(int timeoutMs, int connectMs)
    {
        var options = new DeliveryOptions { BuildSessionId = "b", LabId = "l", BaseAddress = new Uri("http://x/"), RequestTimeout = TimeSpan.FromMilliseconds(timeoutMs) };

        using var handler = FootprintsSender.CreateHandler(options);

        Assert.Equal(TimeSpan.FromMilliseconds(connectMs), handler.ConnectTimeout);
        Assert.False(handler.AllowAutoRedirect);
        Assert.Equal(DecompressionMethods.None, handler.AutomaticDecompression);
        Assert.Equal(TimeSpan.FromSeconds(20), handler.PooledConnectionIdleTimeout);
        Assert.Equal(TimeSpan.FromMinutes(5), handler.PooledConnectionLifetime);
        Assert.Null(handler.Proxy);
    }

    [Fact]
    public void SL_PROXY_and_its_credentials_go_to_the_handler()
    {
        var options = new DeliveryOptions
        {
            BuildSessionId = "b", LabId = "l", BaseAddress = new Uri("http://x/"),
            Proxy = new Uri("http://proxy.example:3128"), ProxyCredentials = ("user", "p@ss"),
        };

        using var handler = FootprintsSender.CreateHandler(options);

        Assert.True(handler.UseProxy);
        var proxy = Assert.IsType<WebProxy>(handler.Proxy);
        Assert.Equal(new Uri("http://proxy.example:3128"), proxy.Address);
        var credential = Assert.IsType<NetworkCredential>(proxy.Credentials);
        Assert.Equal(("user", "p@ss"), (credential.UserName, credential.Password));
        using var plain = FootprintsSender.CreateHandler(options with { ProxyCredentials = null });
        Assert.Null(Assert.IsType<WebProxy>(plain.Proxy).Credentials);
    }
}
