using System.Text.Json.Nodes;
using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Sealights.Lambda.Agent.MethodHits;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>What reaches a real backend process: route, headers, gzip, body, execution, proxy, refusals.</summary>
public sealed class DeliveryWireTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DeliveryScope _scope = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    private static string Header(JsonObject record, string name) => (string)record["headers"]![name]!;

    // The backend accepts only "Bearer <the scope's token>" and records its shape, never the token.
    private const string RecordedBearer = "Bearer <jwt claims: subject,x-sl-role,x-sl-server>";

    [Fact]
    public async Task Footprints_arrive_on_the_documented_route_with_bearer_gzip_sl_headers_and_the_active_execution()
    {
        var backend = await _scope.StartBackendAsync(execution: "exec-42");
        var options = _scope.Options(("SL_LAB_ID", "lab-7"), ("SL_TEST_STAGE", "Regression Tests"));
        var delivery = _scope.Delivery(options);
        var invokeAt = DateTimeOffset.UtcNow;
        delivery.MarkFirstInvoke(invokeAt);
        IReadOnlyList<MethodHit> hits =
        [
            new(Hits.Method(1, 0), invokeAt.AddMilliseconds(-40)),
            new(Hits.Method(1, 1), invokeAt.AddMilliseconds(-10)),
            new(Hits.Method(1, 2), invokeAt.AddMilliseconds(5)),
            new(Hits.Method(1, 3), invokeAt.AddMilliseconds(25)),
        ];

        await delivery.WriteAsync(hits, isFinal: false, CancellationToken.None);
        await delivery.SendUntilDeliveredAsync();

        var query = Assert.Single(backend.ExecutionQueries());
        Assert.Equal("/api/v4/testExecution/lab-7/", (string?)query["path"]);
        Assert.Equal(RecordedBearer, Header(query, "authorization"));

        var record = Assert.Single(backend.FootprintsRecords());
        Assert.Equal("POST", (string?)record["method"]);
        // The stage is the open execution's (the backend's is "Functional Tests"), not SL_TEST_STAGE's.
        Assert.Equal("/api/v6/agents/bsid-1/footprints/Functional Tests/bsid-1/", (string?)record["path"]);
        Assert.Equal("/api/v6/agents/bsid-1/footprints/Functional%20Tests/bsid-1/", (string?)record["rawTarget"]);
        Assert.Equal(RecordedBearer, Header(record, "authorization"));
        Assert.Equal("gzip", Header(record, "content-encoding"));
        Assert.Equal("application/octet-stream", Header(record, "content-type"));
        Assert.Equal("lab-7", Header(record, "x-sl-labid"));
        Assert.Equal("bsid-1", Header(record, "x-sl-bsid"));
        Assert.Equal("exec-42", Header(record, "x-sl-executionid"));
        Assert.Equal(options.AgentId, Header(record, "x-sl-agentid"));

        // The backend accepted it only after gunzipping and checking the v6 shape; here the content.
        var body = record["body"]!;
        Assert.Equal("lab-7", (string?)body["meta"]!["labId"]);
        Assert.Equal(options.AgentId, (string?)body["meta"]!["agentId"]);
        Assert.Equal(hits.Select(h => h.Method.Id), body["methods"]!.AsArray().Select(m => (string)m!));
        var execution = Assert.Single(body["executions"]!.AsArray())!;
        Assert.Equal("exec-42", (string?)execution["executionId"]);
        var entries = execution["hits"]!.AsArray();
        Assert.Equal(2, entries.Count);
        Assert.Equal([0, 1], entries[0]!["methods"]!.AsArray().Select(i => (int)i!));
        Assert.True((bool)entries[0]!["isInitFootprints"]!);
        // Epoch seconds: the first hit's second, rounded down, to the last one's, rounded up.
        Assert.Equal(invokeAt.AddMilliseconds(-40).ToUnixTimeSeconds(), (long)entries[0]!["start"]!);
        Assert.Equal((invokeAt.AddMilliseconds(-10).ToUnixTimeMilliseconds() + 999) / 1000, (long)entries[0]!["end"]!);
        Assert.Equal([2, 3], entries[1]!["methods"]!.AsArray().Select(i => (int)i!));
        Assert.False((bool)entries[1]!["isInitFootprints"]!);
        Assert.False((bool)entries[1]!["isFinalFootprints"]!);
        Assert.Null(entries[1]!["testName"]);
        Assert.Equal(invokeAt.AddMilliseconds(5).ToUnixTimeSeconds(), (long)entries[1]!["start"]!);
        Assert.Equal((invokeAt.AddMilliseconds(25).ToUnixTimeMilliseconds() + 999) / 1000, (long)entries[1]!["end"]!);

        var statistics = delivery.Statistics;
        Assert.Equal((2, 4, 1, 0), (statistics.BatchesSent, statistics.MethodsSent, statistics.RequestsSent, statistics.FailedAttempts));
        Assert.Empty(Directory.GetFiles(_scope.SpoolDirectory));
    }

    [Fact]
    public async Task The_route_takes_the_executions_test_stage_when_none_is_set_and_the_default_when_neither_says()
    {
        var backend = await _scope.StartBackendAsync(execution: null);
        await backend.SetModeAsync(new { mode = "active-execution", executionId = "exec-A", testStage = "Integration Tests" });
        var delivery = _scope.Delivery(_scope.Options());

        await delivery.WriteAsync(Hits.Batch(1, 2, DateTimeOffset.UtcNow), false, CancellationToken.None);
        await delivery.SendUntilDeliveredAsync();
        await backend.SetModeAsync(new { mode = "active-execution", executionId = "exec-B" });
        // The answer is cached for 10 s: the new execution is seen at the first send after that.
        _scope.Clock.Advance(TimeSpan.FromSeconds(11));
        await delivery.WriteAsync(Hits.Batch(2, 2, DateTimeOffset.UtcNow), false, CancellationToken.None);
        await delivery.SendUntilDeliveredAsync();

        var records = backend.FootprintsRecords();
        Assert.Equal(2, records.Count);
        Assert.Equal(("Integration Tests", "exec-A"), ((string?)records[0]["testStage"], Header(records[0], "x-sl-executionid")));
        Assert.Equal(("Functional Tests", "exec-B"), ((string?)records[1]["testStage"], Header(records[1], "x-sl-executionid")));
        Assert.Equal(2, backend.ExecutionQueries().Count);
    }

    [Fact]
    public async Task An_execution_of_another_build_session_gets_its_bsid_and_stage_in_the_route_and_ours_last()
    {
        // An integration build's execution (slnodejs' other-build-session recording routes it so).
        var backend = await _scope.StartBackendAsync(execution: null);
        await backend.SetModeAsync(new { mode = "active-execution", executionId = "exec-int", buildSessionId = "integration-bsid", testStage = "Integration Tests" });
        var delivery = _scope.Delivery(_scope.Options(("SL_TEST_STAGE", "Unit Tests")));

        await delivery.WriteAsync(Hits.Batch(1, 2, DateTimeOffset.UtcNow), false, CancellationToken.None);
        await delivery.SendUntilDeliveredAsync();

        var record = Assert.Single(backend.FootprintsRecords());
        Assert.Equal("/api/v6/agents/integration-bsid/footprints/Integration Tests/bsid-1/", (string?)record["path"]);
        Assert.Equal("bsid-1", Header(record, "x-sl-bsid"));
        Assert.Equal("exec-int", Header(record, "x-sl-executionid"));
        Assert.Equal("exec-int", (string?)record["body"]!["executions"]![0]!["executionId"]);
    }

    [Fact]
    public async Task A_collector_gets_the_footprints_on_its_own_route()
    {
        _scope.UseServer(null);
        var backend = await _scope.StartBackendAsync(tokenNamesBackend: false);
        var delivery = _scope.Delivery(_scope.Options(("SL_COLLECTOR_URL", $"http://127.0.0.1:{backend.Port}/collector")));

        await delivery.WriteAsync(Hits.Batch(1, 3, DateTimeOffset.UtcNow), false, CancellationToken.None);
        await delivery.SendUntilDeliveredAsync();

        var record = Assert.Single(backend.FootprintsRecords());
        Assert.Equal("collector-footprints", (string?)record["route"]);
        Assert.Equal("/collector/v6/agents/bsid-1/footprints", (string?)record["path"]);
        // As slnodejs with a collector URL: the execution is never asked for (CollectorModeTests).
        Assert.Empty(backend.ExecutionQueries());
        // This token's x-sl-server names a port nothing listens on: only the collector is used.
        Assert.Equal(RecordedBearer, Header(record, "authorization"));
        Assert.Equal(3, record["body"]!["methods"]!.AsArray().Count);
    }

    [Fact]
    public async Task With_SL_PROXY_every_request_goes_through_the_proxy()
    {
        // The server name does not resolve: only the proxy can deliver it.
        _scope.UseServer("http://sealights.invalid/api");
        var proxy = await _scope.StartBackendAsync(tokenNamesBackend: false);
        var delivery = _scope.Delivery(_scope.Options(("SL_PROXY", $"http://127.0.0.1:{proxy.Port}")));

        await delivery.WriteAsync(Hits.Batch(1, 2, DateTimeOffset.UtcNow), false, CancellationToken.None);
        await delivery.SendUntilDeliveredAsync();

        var record = Assert.Single(proxy.FootprintsRecords());
        Assert.Equal("sealights.invalid", (string?)record["host"]);
        Assert.StartsWith("http://sealights.invalid/api/v6/agents/bsid-1/footprints/", (string?)record["rawTarget"]);
        Assert.Equal("sealights.invalid", (string?)Assert.Single(proxy.ExecutionQueries())["host"]);
    }

    [Fact]
    public async Task A_refusal_other_than_408_or_429_drops_the_batches_counts_them_and_logs_one_line()
    {
        await _scope.StartBackendAsync();
        // The backend only accepts the token it was started with; the agent now has another one.
        _scope.UseServer(_scope.Token.Server!.ToString());
        var delivery = _scope.Delivery(_scope.Options(("SL_EXECUTION_ID", "exec-fixed")));

        for (var n = 1; n <= 3; n++)
        {
            await delivery.WriteAsync(Hits.Batch(n, 2, DateTimeOffset.UtcNow), false, CancellationToken.None);
            await delivery.SendUntilDeliveredAsync();
        }

        var statistics = delivery.Statistics;
        Assert.Equal((3, 6, 0, 0, 0), (statistics.DroppedRejected, statistics.MethodsDropped, statistics.BatchesSent, statistics.FailedAttempts, statistics.PendingBatches));
        Assert.Equal(1, _scope.Log.Count("refused footprints with 401"));
        // SL_EXECUTION_ID: the active execution is never asked for.
        Assert.Equal(0, statistics.ExecutionQueries);
    }

    [Fact]
    public async Task Batches_left_in_the_spool_by_an_earlier_agent_process_are_sent_by_the_next()
    {
        var backend = await _scope.StartBackendAsync();
        await backend.StopAsync();
        var options = _scope.Options();
        var first = new FootprintsDelivery(options, _scope.Token, _scope.Log.Agent, _scope.Clock);
        await first.WriteAsync(Hits.Batch(1, 2, DateTimeOffset.UtcNow), false, CancellationToken.None);
        await first.WriteAsync(Hits.Batch(2, 2, DateTimeOffset.UtcNow), false, CancellationToken.None);
        await first.SendPendingAsync(TimeSpan.FromMilliseconds(200));
        await first.DisposeAsync();

        await backend.RestartAsync();
        var second = _scope.Delivery(options with { AgentId = Guid.NewGuid().ToString() });
        await second.SendUntilDeliveredAsync();

        Assert.Equal([1, 1, 2, 2], backend.DeliveredMethods().Select(Hits.BatchOf));
        Assert.Equal(1, _scope.Log.Count("2 undelivered footprints batches found in"));
    }
}
