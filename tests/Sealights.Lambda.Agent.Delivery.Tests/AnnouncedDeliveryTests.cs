using System.Text.Json.Nodes;
using Sealights.Images.Testing;
using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// The delivery facade with its lifecycle calls (Delivery/README.md "Lifecycle calls") against
/// an in-process loopback server whose answers each test sets: the start calls' order, what each
/// answer of the build session and the remote configuration does (and says), the agent events
/// and when each is due, and the facade's own rules (the first INVOKE, the background send
/// interval). LifecycleCallsTests checks the same against the test backend process.
/// </summary>
public sealed class AnnouncedDeliveryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string BuildSession = """{"buildSessionId":"bsid-1","appName":"orders","branchName":"main","buildName":"7"}""";

    private static readonly LambdaFacts Function = new("orders-fn", "$LATEST", 512, "eu-west-1", "on-demand", null, "10.0.0", null, "Test CPU", "0.5 Gb");

    private readonly DeliveryScope _scope = new(output);
    private readonly LoopbackBackend _backend = new();
    private readonly Dictionary<string, LoopbackAnswer> _answers = new()
    {
        ["v2/agents/buildsession/"] = new(200, BuildSession),
        ["v3/config"] = new(200, "{}"),
        ["v4/testExecution/"] = new(200, """{"execution":{"executionId":"e-1","buildSessionId":"bsid-1","testStage":"Stage","status":"created"}}"""),
        ["v3/agents/agent-events/"] = new(200),
        ["v6/agents/"] = new(200),
    };

    public Task InitializeAsync()
    {
        _backend.Answer(request =>
        {
            lock (_answers)
            {
                return _answers.First(a => request.Target.StartsWith("/api/" + a.Key, StringComparison.Ordinal)).Value;
            }
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _scope.DisposeAsync();
        await _backend.DisposeAsync();
    }

    private void Answer(string route, LoopbackAnswer answer)
    {
        lock (_answers)
        {
            _answers[route] = answer;
        }
    }

    private FootprintsDelivery Delivery(params (string Name, string Value)[] env)
    {
        _scope.UseServer(_backend.Api);
        return _scope.AnnouncedDelivery(_scope.Options([("SL_LAB_ID", "lab-1"), .. env]), Function);
    }

    private IReadOnlyList<LoopbackRequest> Events => _backend.To("v3/agents/agent-events/");

    private IReadOnlyList<int> EventTypes => Events.Select(e => (int)JsonNode.Parse(e.Body)!["events"]![0]!["type"]!).ToList();

    private IReadOnlyList<LoopbackRequest> Footprints => _backend.To("v6/agents/");

    // Deadlines are on the agent's clock (the test's, shifted).
    private DateTimeOffset Soon => _scope.Clock.GetUtcNow().AddSeconds(3);

    private async Task StartAsync(FootprintsDelivery delivery)
    {
        delivery.MarkFirstInvoke(DateTimeOffset.UtcNow);
        await delivery.Lifecycle!.Concluded.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Nothing_goes_out_before_the_first_INVOKE_then_the_start_calls_events_and_footprints_in_order()
    {
        var delivery = Delivery();
        await delivery.WriteBatchAsync(1);
        Assert.False(delivery.Lifecycle!.Concluded.IsCompleted);
        Assert.False(delivery.Lifecycle.FootprintsMayGo);
        Assert.Equal(SendOutcome.Busy, await delivery.SendPendingAsync(TimeSpan.FromMilliseconds(50)));
        Assert.Empty(_backend.Requests);

        delivery.MarkFirstInvoke(DateTimeOffset.UtcNow);
        delivery.MarkFirstInvoke(DateTimeOffset.UtcNow.AddDays(1));
        await delivery.SendUntilDeliveredAsync();
        await Sending.UntilAsync(() => EventTypes.Count >= 3, "1001, 1006 and 1010");
        await delivery.DrainAsync(Soon);

        var targets = _backend.Requests.Select(r => r.Target).ToList();
        Assert.Equal("/api/v2/agents/buildsession/bsid-1/", targets[0]);
        Assert.StartsWith("/api/v3/config?", targets[1]);
        Assert.Equal("/api/v4/testExecution/lab-1/", targets[2]);
        Assert.Equal([1001, 1006, 1010, 1002], EventTypes);
        Assert.All(Events, e => Assert.Equal((string?)JsonNode.Parse(e.Body)!["events"]![0]!["type"]!.ToJsonString(), e.Header("x-sl-messageType")));
        Assert.All(Events.Skip(1), e => Assert.Equal("e-1", e.Header("x-sl-executionId")));
        Assert.Equal("orders-fn", (string?)JsonNode.Parse(Events[0].Body)!["events"]![0]!["data"]!["techSpecificInfo"]!["functionName"]);
        Assert.All(_backend.Requests.Skip(1), r => Assert.Equal("orders", r.Header("x-sl-appName")));
        // Batch 1 was collected before the first INVOKE: init footprints.
        Assert.True((bool)JsonNode.Parse(Assert.Single(Footprints).Body)!["executions"]![0]!["hits"]![0]!["isInitFootprints"]!);
        Assert.Equal(1, _scope.Log.Count("INFO build session bsid-1: app 'orders', branch 'main', build '7'"));
        Assert.Equal(1, _scope.Log.Count("INFO footprints delivery: 1 batches (3 methods) sent in 1 requests, 0 pending, 0 failed attempts"));
        Assert.Equal(1, _scope.Log.Count("INFO footprints go to the "));
        // Every event was answered 200, and the spool was empty at the start.
        Assert.Equal(0, _scope.Log.Count("agent event"));
        Assert.Equal(0, _scope.Log.Count("undelivered footprints batches found"));
        Assert.Equal(1, delivery.Statistics.BatchesSent);
        Assert.Equal("e-1", delivery.ActiveExecution?.ExecutionId);
    }

    [Fact]
    public async Task A_lab_without_an_execution_gets_1007_and_no_first_footprints_event()
    {
        Answer("v4/testExecution/", new(404));
        var delivery = Delivery();
        await StartAsync(delivery);
        await delivery.WriteBatchAsync(1);
        delivery.Invoked();
        await Sending.UntilAsync(() => EventTypes.Count >= 2, "1001 and 1007");

        await delivery.DrainAsync(Soon);

        Assert.Equal([1001, 1007, 1002], EventTypes);
        Assert.Empty(Footprints);
        Assert.All(Events, e => Assert.Null(e.Header("x-sl-executionId")));
    }

    [Fact]
    public async Task Enabled_false_turns_everything_off_and_says_so()
    {
        Answer("v3/config", new(200, """{"enabled":false}"""));
        var delivery = Delivery();
        await StartAsync(delivery);

        await delivery.WriteBatchAsync(1);
        delivery.Invoked();
        Assert.Equal(SendOutcome.Nothing, await delivery.SendPendingAsync());
        Assert.Equal(SendOutcome.Nothing, await delivery.DrainAsync(Soon));

        Assert.Equal(2, _backend.Requests.Count);
        Assert.True(delivery.Lifecycle!.FootprintsOff);
        Assert.False(delivery.Lifecycle.FootprintsMayGo);
        Assert.Equal(0, delivery.Statistics.BatchesSpooled);
        Assert.Equal(1, _scope.Log.Count("WARN Sealights' remote configuration turns this agent off (enabled: false): no footprints, events or other requests from this environment"));
    }

    [Fact]
    public async Task SendFootprints_false_keeps_the_events_and_asks_for_no_execution()
    {
        Answer("v3/config", new(200, """{"sendFootprints":false}"""));
        var delivery = Delivery();
        await StartAsync(delivery);
        await delivery.WriteBatchAsync(1);
        await Sending.UntilAsync(() => EventTypes.Count >= 1, "1001");

        await delivery.DrainAsync(Soon);

        Assert.Equal([1001, 1002], EventTypes);
        Assert.Empty(Footprints);
        Assert.Empty(_backend.To("v4/testExecution/"));
        Assert.Equal(1, _scope.Log.Count("INFO Sealights' remote configuration applied: sendFootprints: false"));
    }

    [Fact]
    public async Task SendEvents_false_keeps_the_footprints_and_sends_no_event()
    {
        Answer("v3/config", new(200, """{"sendEvents":false,"executionQueryIntervalSecs":30}"""));
        var delivery = Delivery();
        await StartAsync(delivery);
        await delivery.WriteBatchAsync(1);
        delivery.Invoked();

        await delivery.SendUntilDeliveredAsync();
        await delivery.DrainAsync(Soon);

        Assert.Single(Footprints);
        Assert.Empty(Events);
        Assert.Equal(TimeSpan.FromSeconds(30), delivery.Options.ExecutionRefreshInterval);
        Assert.Equal(1, _scope.Log.Count("INFO Sealights' remote configuration applied: sendEvents: false, executionQueryIntervalSecs: 30"));
    }

    [Theory]
    [InlineData(500, "{}", "INFO Sealights' remote configuration could not be read (answered 500): the agent's defaults apply")]
    [InlineData(200, "[]", "INFO Sealights' remote configuration could not be read (answered 200): the agent's defaults apply")]
    // Only a 2xx is an answer, even with a body that would turn everything off.
    [InlineData(300, """{"enabled":false}""", "INFO Sealights' remote configuration could not be read (answered 300): the agent's defaults apply")]
    public async Task A_remote_configuration_that_cannot_be_read_leaves_the_defaults(int status, string body, string line)
    {
        Answer("v3/config", new(status, body));
        var delivery = Delivery();
        await StartAsync(delivery);

        await delivery.WriteBatchAsync(1);
        await delivery.SendUntilDeliveredAsync();

        Assert.Equal(1, _scope.Log.Count(line));
        Assert.Equal(RemoteConfiguration.Defaults, delivery.Lifecycle!.Configuration);
        Assert.Single(Footprints);
    }

    [Fact]
    public async Task An_unknown_build_session_is_said_once_and_footprints_go_anyway()
    {
        Answer("v2/agents/buildsession/", new(404));
        var delivery = Delivery();
        await StartAsync(delivery);

        await delivery.WriteBatchAsync(1);
        await delivery.SendUntilDeliveredAsync();

        Assert.Equal(1, _scope.Log.Count($"WARN Sealights does not know build session bsid-1 (http://127.0.0.1:{_backend.Port}/api/v2/agents/buildsession/bsid-1/ answered 404): footprints are sent anyway, but will count for nothing unless SL_BUILD_SESSION_ID names a build session created for this build"));
        Assert.Single(Footprints);
        Assert.Null(Footprints[0].Header("x-sl-appName"));
    }

    [Theory]
    [InlineData(500, "", "WARN the build session bsid-1 could not be validated (answered 500): requests go without app, branch and build names")]
    [InlineData(500, BuildSession, "WARN the build session bsid-1 could not be validated (answered 500): requests go without app, branch and build names")]
    [InlineData(300, BuildSession, "WARN the build session bsid-1 could not be validated (answered 300): requests go without app, branch and build names")]
    [InlineData(200, "[1]", "WARN the build session bsid-1 could not be validated (the answer is not a JSON object): requests go without app, branch and build names")]
    [InlineData(200, "{}", "INFO build session bsid-1: known to the server, which names no app, branch or build (as a local collector)")]
    [InlineData(200, """{"appName":"orders"}""", "INFO build session bsid-1: app 'orders', branch '?', build '?'")]
    [InlineData(200, """{"branchName":"main"}""", "INFO build session bsid-1: app '?', branch 'main', build '?'")]
    [InlineData(200, """{"buildName":"7"}""", "INFO build session bsid-1: app '?', branch '?', build '7'")]
    public async Task Each_build_session_answer_is_said_as_what_it_means(int status, string body, string line)
    {
        Answer("v2/agents/buildsession/", new(status, body));
        var delivery = Delivery();

        await StartAsync(delivery);

        Assert.Equal(1, _scope.Log.Count(line));
    }

    [Fact]
    public async Task A_backend_that_cannot_be_reached_is_said_at_debug_only_and_the_defaults_apply()
    {
        _scope.UseServer($"http://127.0.0.1:{FreePorts.Next()}/api");
        var delivery = _scope.AnnouncedDelivery(_scope.Options(("SL_LAB_ID", "lab-1")), Function);

        await StartAsync(delivery);
        await delivery.WriteBatchAsync(1);

        Assert.Equal(1, _scope.Log.Count("DEBUG the build session bsid-1 could not be validated (ConnectionError: Connection refused"));
        Assert.Equal(1, _scope.Log.Count("DEBUG Sealights' remote configuration could not be read (ConnectionError: Connection refused"));
        Assert.True(delivery.Lifecycle!.FootprintsMayGo);
    }

    [Fact]
    public async Task A_start_call_without_an_answer_within_the_request_timeout_is_said_as_such_and_the_next_goes_on()
    {
        Answer("v2/agents/buildsession/", new(200, BuildSession, TimeSpan.FromSeconds(30)));
        var delivery = Delivery(("SL_REQUEST_TIMEOUT_MS", "300"));

        await StartAsync(delivery);

        Assert.Equal(1, _scope.Log.Count("DEBUG the build session bsid-1 could not be validated (no answer within 300 ms): requests go without app, branch and build names"));
        Assert.Single(_backend.To("v3/config"));
        Assert.True(delivery.Lifecycle!.FootprintsMayGo);
    }

    [Fact]
    public async Task A_ping_goes_at_the_first_INVOKE_120_s_after_the_last()
    {
        var delivery = Delivery();
        await StartAsync(delivery);
        await Sending.UntilAsync(() => EventTypes.Count >= 2, "1001 and 1006");

        _scope.Clock.Advance(TimeSpan.FromSeconds(119));
        delivery.Invoked();
        _scope.Clock.Advance(TimeSpan.FromSeconds(1));
        delivery.Invoked();
        delivery.Invoked();
        _scope.Clock.Advance(TimeSpan.FromSeconds(120));
        delivery.Invoked();
        await delivery.DrainAsync(Soon);

        Assert.Equal([1001, 1006, 1003, 1003, 1002], EventTypes);
        Assert.Equal("""{"agentInfo":{"labId":"lab-1"}}""", JsonNode.Parse(Events[2].Body)!["events"]![0]!["data"]!.ToJsonString());
    }

    [Fact]
    public async Task An_execution_the_cache_learns_after_the_start_calls_is_named_by_the_next_INVOKEs_events()
    {
        // Built apart from the facade so that the cache can learn an execution without a footprints
        // request (which would name it on its own): only the INVOKE can make the events name it.
        Answer("v4/testExecution/", new(404));
        _scope.UseServer(_backend.Api);
        var options = _scope.Options(("SL_LAB_ID", "lab-1"));
        using var http = new HttpClient();
        var executions = new ActiveExecutionCache(options, _scope.Token, http, _scope.Log.Agent, new DeliveryCounters(), _scope.Clock);
        using var lifecycle = new LifecycleCalls(options, _scope.Token, _scope.Log.Agent, executions,
            () => new DeliveryCounters().Snapshot(0, 0, 0), () => { }, () => Function, _scope.Clock);
        lifecycle.Start();
        await lifecycle.Concluded.WaitAsync(TimeSpan.FromSeconds(10));
        await Sending.UntilAsync(() => EventTypes.Count >= 2, "1001 and 1007");

        Answer("v4/testExecution/", new(200, """{"execution":{"executionId":"e-2","buildSessionId":"bsid-1","testStage":"Stage","status":"created"}}"""));
        _scope.Clock.Advance(LifecycleCalls.PingInterval);
        Assert.Equal("e-2", (await executions.GetAsync(_scope.Clock.GetUtcNow().AddSeconds(5), CancellationToken.None)).Execution?.ExecutionId);
        lifecycle.Invoked();
        await lifecycle.ShutdownAsync(Soon);

        Assert.Equal([1001, 1007, 1003, 1002], EventTypes);
        Assert.Equal([null, null, "e-2", "e-2"], Events.Select(e => e.Header("x-sl-executionId")));
        Assert.Empty(Footprints);
    }

    [Fact]
    public async Task Footprints_that_could_not_be_submitted_are_said_once_with_4006_before_1002()
    {
        Answer("v6/agents/", new(503));
        var delivery = Delivery();
        await StartAsync(delivery);
        await delivery.WriteBatchAsync(1);
        // The write's background send fails.
        await Sending.UntilAsync(() => delivery.Statistics.FailedAttempts > 0, "a failed attempt");
        await Sending.UntilAsync(() => EventTypes.Count >= 3, "1001, 1006, 1010");

        delivery.Invoked();
        delivery.Invoked();
        // Said at the INVOKE already, not only at SHUTDOWN.
        await Sending.UntilAsync(() => EventTypes.Contains(4006), "4006 at the INVOKE");
        await delivery.DrainAsync(Soon);

        Assert.Equal([1001, 1006, 1010, 4006, 1002], EventTypes);
    }

    [Fact]
    public async Task Refused_footprints_are_said_with_4006_at_shutdown()
    {
        Answer("v6/agents/", new(401));
        var delivery = Delivery();
        await StartAsync(delivery);
        await delivery.WriteBatchAsync(1);
        // The write's background send is refused.
        await Sending.UntilAsync(() => delivery.Statistics.DroppedRejected > 0, "the refusal");
        await Sending.UntilAsync(() => EventTypes.Count >= 3, "1001, 1006, 1010");

        await delivery.DrainAsync(Soon);

        Assert.Equal([1001, 1006, 1010, 4006, 1002], EventTypes);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(300)]
    public async Task An_event_that_fails_is_not_retried_and_said_once(int status)
    {
        Answer("v3/agents/agent-events/", new(status));
        var delivery = Delivery();
        await StartAsync(delivery);
        await Sending.UntilAsync(() => Events.Count >= 2, "1001 and 1006");

        await delivery.DrainAsync(Soon);

        Assert.Equal([1001, 1006, 1002], EventTypes);
        Assert.Equal(1, _scope.Log.Count($"WARN agent event 1001 not delivered (answered {status}); events are not retried, coverage is not affected; further failures are not logged"));
        Assert.Equal(1, _scope.Log.Count("agent event"));
    }

    [Fact]
    public async Task A_shutdown_during_the_start_calls_cuts_them_and_sends_footprints_with_the_defaults()
    {
        Answer("v3/config", new(200, """{"enabled":false}""", TimeSpan.FromSeconds(30)));
        var delivery = Delivery(("SL_EXECUTION_ID", "exec-1"));
        await delivery.WriteBatchAsync(1);
        delivery.MarkFirstInvoke(DateTimeOffset.UtcNow);
        await Sending.UntilAsync(() => _backend.To("v3/config").Count == 1, "the remote configuration request");

        await delivery.DrainAsync(Soon);

        await delivery.Lifecycle!.Concluded.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Single(Footprints);
        Assert.Empty(Events);
        Assert.Equal(0, _scope.Log.Count("remote configuration could not be read"));
    }

    [Fact]
    public async Task A_background_send_goes_at_most_every_flush_interval_and_always_for_the_final_flush()
    {
        _scope.UseServer(_backend.Api);
        var delivery = _scope.Delivery(_scope.Options(("SL_EXECUTION_ID", "exec-1"), ("SL_FLUSH_INTERVAL_SECONDS", "10")));
        await delivery.WriteBatchAsync(1);
        await Sending.UntilAsync(() => delivery.Statistics.PendingBatches == 0, "batch 1 sent by the first write's kick");

        await delivery.WriteBatchAsync(2);
        _scope.Clock.Advance(TimeSpan.FromSeconds(9));
        await delivery.WriteBatchAsync(3);
        _scope.Clock.Advance(TimeSpan.FromSeconds(1));
        await delivery.WriteBatchAsync(4);
        await Sending.UntilAsync(() => delivery.Statistics.PendingBatches == 0, "batches 2 to 4 sent by the third write's kick");
        await delivery.WriteBatchAsync(5, isFinal: true);
        await Sending.UntilAsync(() => delivery.Statistics.PendingBatches == 0, "the final flush sent at once");

        Assert.Equal([[1], [2, 3, 4], [5]], Footprints.Select(f => Batches(f)));
        Assert.True((bool)JsonNode.Parse(Footprints[2].Body)!["executions"]![0]!["hits"]![0]!["isFinalFootprints"]!);
    }

    [Fact]
    public async Task Without_a_first_INVOKE_every_hit_is_init_and_after_it_only_earlier_ones()
    {
        _scope.UseServer(_backend.Api);
        var delivery = _scope.Delivery(_scope.Options(("SL_EXECUTION_ID", "exec-1"), ("SL_FLUSH_INTERVAL_SECONDS", "0")));
        var invoke = DateTimeOffset.UtcNow;
        await delivery.WriteAsync(Hits.Batch(1, 1, invoke.AddSeconds(5)), false, CancellationToken.None);
        await delivery.SendUntilDeliveredAsync();

        delivery.MarkFirstInvoke(invoke);
        // Later calls are ignored: the first INVOKE stays the boundary.
        delivery.MarkFirstInvoke(invoke.AddDays(1));
        await delivery.WriteAsync([.. Hits.Batch(2, 1, invoke.AddSeconds(-1)), .. Hits.Batch(3, 1, invoke.AddSeconds(1))], false, CancellationToken.None);
        await delivery.SendUntilDeliveredAsync();

        var hits = Footprints.SelectMany(f => JsonNode.Parse(f.Body)!["executions"]![0]!["hits"]!.AsArray()).Select(h => (bool)h!["isInitFootprints"]!).ToList();
        Assert.Equal([true, true, false], hits);
    }

    [Fact]
    public async Task Batches_left_by_an_earlier_environment_are_said_and_sent_first()
    {
        _scope.UseServer(_backend.Api);
        var options = _scope.Options(("SL_EXECUTION_ID", "exec-1"));
        await using (var first = new FootprintsDelivery(options with { }, _scope.Token, _scope.Log.Agent, _scope.Clock))
        {
            Answer("v6/agents/", new(503));
            await first.WriteBatchAsync(1);
            await first.WriteBatchAsync(2);
            await Sending.UntilAsync(() => first.Statistics.FailedAttempts > 0, "the first failure");
        }
        Answer("v6/agents/", new(200));

        var delivery = _scope.Delivery(options);
        await delivery.SendUntilDeliveredAsync();

        Assert.Equal(1, _scope.Log.Count($"INFO 2 undelivered footprints batches found in {options.SpoolDirectory}: sent first"));
        Assert.Equal([1, 2], Batches(Footprints[^1]));
    }

    [Fact]
    public async Task An_INVOKE_before_the_agent_announced_itself_sends_nothing()
    {
        var delivery = Delivery();
        delivery.Invoked();
        await StartAsync(delivery);
        await Sending.UntilAsync(() => EventTypes.Count >= 2, "1001 and 1006");

        await delivery.DrainAsync(Soon);

        Assert.Equal([1001, 1006, 1002], EventTypes);
    }

    [Fact]
    public async Task The_execution_found_by_the_start_calls_is_named_by_the_events_that_follow()
    {
        var delivery = Delivery();
        await StartAsync(delivery);
        await Sending.UntilAsync(() => EventTypes.Count >= 2, "1001 and 1006");

        await delivery.DrainAsync(Soon);

        // No footprints and no INVOKE named it: the start calls' own answer does.
        Assert.Equal([1001, 1006, 1002], EventTypes);
        Assert.Equal(["e-1", "e-1"], Events.Skip(1).Select(e => e.Header("x-sl-executionId")));
    }

    [Fact]
    public async Task An_execution_first_known_after_the_start_calls_is_said_at_the_next_INVOKE_with_the_first_footprints()
    {
        Answer("v4/testExecution/", new(500));
        var delivery = Delivery();
        await StartAsync(delivery);
        await Sending.UntilAsync(() => EventTypes.Count >= 1, "1001");
        Answer("v4/testExecution/", new(200, """{"execution":{"executionId":"e-1","buildSessionId":"bsid-1","testStage":"Stage","status":"created"}}"""));
        await delivery.WriteBatchAsync(1);
        await delivery.SendUntilDeliveredAsync();

        delivery.Invoked();
        await Sending.UntilAsync(() => EventTypes.Count >= 3, "1006 and 1010 at the INVOKE");
        await delivery.DrainAsync(Soon);

        Assert.Equal([1001, 1006, 1010, 1002], EventTypes);
    }

    [Fact]
    public async Task An_empty_flush_is_not_the_first_footprints()
    {
        var delivery = Delivery();
        await StartAsync(delivery);
        await Sending.UntilAsync(() => EventTypes.Count >= 2, "1001 and 1006");

        await delivery.WriteAsync([], false, CancellationToken.None);
        await delivery.DrainAsync(Soon);

        Assert.Equal([1001, 1006, 1002], EventTypes);
        Assert.Equal(0, delivery.Statistics.BatchesSpooled);
    }

    [Fact]
    public async Task An_empty_flush_does_not_use_up_the_last_flush_of_an_execution_pending_deletion()
    {
        Answer("v4/testExecution/", new(200, """{"execution":{"executionId":"e-1","buildSessionId":"bsid-1","testStage":"Stage","status":"pendingDelete"}}"""));
        var delivery = Delivery();
        await StartAsync(delivery);

        await delivery.WriteAsync([], false, CancellationToken.None);
        await delivery.WriteBatchAsync(1);
        await delivery.SendUntilDeliveredAsync();

        // The one flush after the pending deletion was seen is the one with methods.
        Assert.Equal([1], Batches(Assert.Single(Footprints)));
        Assert.Equal(0, delivery.Statistics.DroppedNoExecution);
    }

    [Fact]
    public async Task Footprints_spooled_before_the_first_INVOKE_go_as_soon_as_the_start_calls_conclude()
    {
        var delivery = Delivery();
        await delivery.WriteBatchAsync(1);

        delivery.MarkFirstInvoke(DateTimeOffset.UtcNow);

        // No send opportunity is offered: the start calls' conclusion kicks the sender itself.
        await Sending.UntilAsync(() => Footprints.Count == 1, "the batch sent when the start calls concluded");
        Assert.Equal([1], Batches(Footprints[0]));
    }

    [Fact]
    public async Task An_opportunity_waits_for_the_start_calls_within_its_own_budget_not_the_default()
    {
        // The default budget is 0: only the budget given lets the opportunity wait for the held build session.
        Answer("v2/agents/buildsession/", new(200, BuildSession, TimeSpan.FromMilliseconds(500)));
        var delivery = Delivery(("SL_FLUSH_BUDGET_MS", "0"));
        delivery.MarkFirstInvoke(DateTimeOffset.UtcNow);

        var outcome = await delivery.SendPendingAsync(TimeSpan.FromSeconds(30));

        Assert.True(delivery.Lifecycle!.Concluded.IsCompleted);
        Assert.Equal(SendOutcome.Nothing, outcome);
    }

    [Fact]
    public async Task Batches_spooled_before_the_remote_configuration_turned_footprints_off_are_never_sent()
    {
        Answer("v3/config", new(200, """{"sendFootprints":false}"""));
        var delivery = Delivery();
        await delivery.WriteBatchAsync(1);
        await StartAsync(delivery);

        var opportunity = await delivery.SendPendingAsync(TimeSpan.FromSeconds(5));
        var drain = await delivery.DrainAsync(Soon);

        Assert.Equal((SendOutcome.Nothing, SendOutcome.Nothing), (opportunity, drain));
        Assert.Empty(Footprints);
        Assert.Equal(1, delivery.Statistics.PendingBatches);
    }

    [Fact]
    public async Task A_second_shutdown_sends_no_second_1002()
    {
        var delivery = Delivery();
        await StartAsync(delivery);
        await Sending.UntilAsync(() => EventTypes.Count >= 2, "1001 and 1006");

        await delivery.DrainAsync(Soon);
        await delivery.DrainAsync(Soon);

        Assert.Equal([1001, 1006, 1002], EventTypes);
    }

    [Fact]
    public async Task Events_still_in_flight_at_the_shutdown_deadline_are_left_and_said_at_debug()
    {
        Answer("v3/agents/agent-events/", new(200, "", TimeSpan.FromSeconds(60)));
        var delivery = Delivery(("SL_REQUEST_TIMEOUT_MS", "30000"));
        await StartAsync(delivery);
        await Sending.UntilAsync(() => Events.Count >= 1, "1001 in flight");

        await delivery.DrainAsync(_scope.Clock.GetUtcNow().AddSeconds(1));

        Assert.Equal(1, _scope.Log.Count("DEBUG agent events still queued at the shutdown deadline were not sent"));
    }

    [Fact]
    public async Task An_event_without_an_answer_is_said_at_debug_with_why()
    {
        Answer("v3/agents/agent-events/", new(200, "", TimeSpan.FromSeconds(60)));
        var delivery = Delivery(("SL_REQUEST_TIMEOUT_MS", "300"));
        await StartAsync(delivery);

        await Sending.UntilAsync(() => _scope.Log.Count("agent event 1001 not delivered") == 1, "the failure line");

        Assert.Equal(1, _scope.Log.Count("DEBUG agent event 1001 not delivered (no answer within 300 ms); events are not retried"));
    }

    private static int[] Batches(LoopbackRequest request)
    {
        var document = JsonNode.Parse(request.Body)!;
        return document["executions"]![0]!["hits"]!.AsArray()
            .SelectMany(h => h!["methods"]!.AsArray().Select(i => Hits.BatchOf((string)document["methods"]![(int)i!]!)))
            .Distinct().ToArray();
    }
}
