using System.Text.Json.Nodes;
using Sealights.Images.Testing;
using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// The agent announcing itself as slnodejs 6.1.1133 does (Delivery/README.md "Lifecycle calls"),
/// against the real test backend process: nothing before the first INVOKE, then bsid validation,
/// remote configuration, the execution query and agent events, with the identity headers on
/// every request; <c>enabled: false</c>; an unknown bsid; pings, 4006, 1002; a slow backend.
/// </summary>
public sealed class LifecycleCallsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DeliveryScope _scope = new(output);

    private static readonly LambdaFacts Function = new(
        "orders-fn", "$LATEST", 512, "eu-west-1", "on-demand", null, "10.0.0", null, "Test CPU", "0.5 Gb");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    private static string Route(JsonObject record) => (string)record["route"]!;

    private static string? Header(JsonObject record, string name) => (string?)record["headers"]![name];

    private static IReadOnlyList<int> EventTypes(TestBackendProcess backend) =>
        backend.Records().Where(r => Route(r) == "agent-events").Select(r => (int)r["body"]!["events"]![0]!["type"]!).ToList();

    private async Task<TestBackendProcess> BackendWithBuildSessionAsync(string? execution = "execution-1")
    {
        var backend = await _scope.StartBackendAsync(execution: execution);
        await backend.SetModeAsync(new { mode = "build-session", buildSessionId = "bsid-1", appName = "orders", branchName = "main", buildName = "7" });
        return backend;
    }

    [Fact]
    public async Task Nothing_goes_out_before_the_first_INVOKE_then_the_calls_come_in_slnodejs_order_with_identity_headers()
    {
        var backend = await BackendWithBuildSessionAsync();
        var options = _scope.Options();
        var delivery = _scope.AnnouncedDelivery(options, Function);

        // Init: hits are spooled, nothing is sent (not even footprints) before the first INVOKE:
        // by the delivery's own state (no start calls begun, footprints may not go, so the write
        // kicks no send), and below by the order of what the backend got, not by a wait.
        await delivery.WriteBatchAsync(1);
        Assert.False(delivery.Lifecycle!.Concluded.IsCompleted);
        Assert.False(delivery.Lifecycle.FootprintsMayGo);
        Assert.Equal(0, delivery.Statistics.RequestsSent);
        Assert.Empty(backend.Records());

        delivery.MarkFirstInvoke(DateTimeOffset.UtcNow);
        delivery.Invoked();
        await delivery.SendUntilDeliveredAsync();
        await Sending.UntilAsync(() => EventTypes(backend).Count >= 3, "1001, 1006 and 1010");
        await delivery.DrainAsync(DateTimeOffset.UtcNow.AddSeconds(3));

        var records = backend.Records();
        var routes = records.Select(Route).ToList();
        output.WriteLine(string.Join(", ", routes));
        Assert.Equal(["buildsession-get", "remote-config", "execution"], routes.Take(3));
        Assert.True(routes.IndexOf("footprints") > routes.IndexOf("remote-config"), "footprints before the remote configuration");
        Assert.Equal([1001, 1006, 1010, 1002], EventTypes(backend));

        var config = records.Single(r => Route(r) == "remote-config");
        Assert.Equal(
            $"/api/v3/config?agentType=TestListener&agentVersion={AgentMetadata.AgentVersion}&agentId={options.AgentId}&appName=orders&branchName=main&buildName=7&labId=bsid-1",
            (string?)config["rawTarget"]);
        Assert.Equal("/api/v2/agents/buildsession/bsid-1/", (string?)records[0]["rawTarget"]);

        // Every request after the validation names app, branch and build, and carries sl-metadata.
        foreach (var record in records.Skip(1))
        {
            Assert.Equal("orders", Header(record, "x-sl-appname"));
            Assert.Equal("main", Header(record, "x-sl-branchname"));
            Assert.Equal("7", Header(record, "x-sl-buildname"));
            var metadata = JsonNode.Parse(Header(record, "sl-metadata")!)!.AsObject();
            Assert.Equal("bsid-1", (string?)metadata["labId"]);
            Assert.Equal("orders", (string?)metadata["appName"]);
            Assert.Equal(options.AgentId, (string?)metadata["agentId"]);
            Assert.Equal("bsid-1", (string?)metadata["buildSessionId"]);
            Assert.Equal("TestListener", (string?)metadata["agentType"]);
            Assert.Equal("dotnet", (string?)metadata["agentTechnology"]);
            Assert.Equal(AgentMetadata.AgentVersion, (string?)metadata["agentVersion"]);
        }
        // Before the validation answered, the names are left out (not empty).
        Assert.Null(Header(records[0], "x-sl-appname"));
        Assert.False(JsonNode.Parse(Header(records[0], "sl-metadata")!)!.AsObject().ContainsKey("appName"));

        var events = records.Where(r => Route(r) == "agent-events").ToList();
        Assert.All(events, e => Assert.Equal((string?)e["body"]!["events"]![0]!["type"]!.ToJsonString(), Header(e, "x-sl-messagetype")));
        Assert.All(events, e => Assert.Equal("gzip", Header(e, "content-encoding")));
        Assert.All(events.Skip(1), e => Assert.Equal("execution-1", Header(e, "x-sl-executionid")));
        var started = events[0]["body"]!;
        Assert.Equal(options.AgentId, (string?)started["agentId"]);
        Assert.Equal("orders", (string?)started["appName"]);
        Assert.Equal("bsid-1", (string?)started["buildSessionId"]);
        var data = started["events"]![0]!["data"]!;
        var agentInfo = data["agentInfo"]!;
        Assert.Equal("TestListener", (string?)agentInfo["agentType"]);
        Assert.Equal("dotnet", (string?)agentInfo["technology"]);
        Assert.Equal(Environment.ProcessId, (int)agentInfo["processId"]!);
        Assert.NotNull((string?)agentInfo["processArch"]);
        Assert.Equal("bsid-1", (string?)agentInfo["labId"]);
        Assert.Null(agentInfo["agentConfig"]);
        Assert.Null(agentInfo["envVars"]);
        var lambda = data["techSpecificInfo"]!;
        Assert.Equal("orders-fn", (string?)lambda["functionName"]);
        Assert.Equal("$LATEST", (string?)lambda["functionVersion"]);
        Assert.Equal(512, (int)lambda["memorySizeMB"]!);
        Assert.Equal("10.0.0", (string?)lambda["dotnetVersion"]);
        Assert.Equal("aws-lambda-extension", (string?)lambda["host"]);
        Assert.NotNull(data["machineInfo"]!["machineName"]);
        Assert.All(records, r => Assert.DoesNotContain(_scope.RawToken, r.ToJsonString(), StringComparison.Ordinal));
        Assert.Contains(_scope.Log.Lines, l => l.Contains("build session bsid-1: app 'orders', branch 'main', build '7'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_build_session_without_names_is_said_so_rather_than_as_question_marks()
    {
        var backend = await _scope.StartBackendAsync(execution: "execution-1");
        await backend.SetModeAsync(new { mode = "build-session", buildSessionId = "bsid-1" });
        var delivery = _scope.AnnouncedDelivery(_scope.Options(), Function);

        delivery.MarkFirstInvoke(DateTimeOffset.UtcNow);
        delivery.Invoked();
        // The remote configuration is asked for after the build session's answer was read.
        await Sending.UntilAsync(() => backend.Records().Any(r => Route(r) == "remote-config"), "the calls after the build session");
        await delivery.DrainAsync(DateTimeOffset.UtcNow.AddSeconds(3));

        Assert.Contains(_scope.Log.Lines, l => l.Contains("build session bsid-1: known to the server, which names no app, branch or build", StringComparison.Ordinal));
        Assert.DoesNotContain(_scope.Log.Lines, l => l.Contains("app '?'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Remote_configuration_enabled_false_silences_footprints_and_events_with_one_line()
    {
        var backend = await BackendWithBuildSessionAsync();
        await backend.SetModeAsync(new { mode = "remote-config", config = new { enabled = false } });
        var delivery = _scope.AnnouncedDelivery(_scope.Options(), Function);

        await delivery.WriteBatchAsync(1);
        delivery.MarkFirstInvoke(DateTimeOffset.UtcNow);
        await delivery.Lifecycle!.Concluded.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(delivery.Lifecycle.FootprintsOff);
        // By the delivery's own decisions, not by waiting for a request that does not come:
        // a write after the answer is not spooled, and neither a send nor the drain has anything to do.
        var spooled = delivery.Statistics.BatchesSpooled;
        await delivery.WriteBatchAsync(2);
        Assert.Equal(spooled, delivery.Statistics.BatchesSpooled);
        delivery.Invoked();
        Assert.Equal(SendOutcome.Nothing, await delivery.SendPendingAsync(TimeSpan.FromSeconds(1)));
        Assert.Equal(SendOutcome.Nothing, await delivery.DrainAsync(DateTimeOffset.UtcNow.AddSeconds(2)));
        // Stopped: no background work is left to send anything after the records are read.
        await delivery.DisposeAsync();

        Assert.Equal(["buildsession-get", "remote-config"], backend.Records().Select(Route));
        Assert.Equal(1, _scope.Log.Count("turns this agent off (enabled: false)"));
        Assert.Equal(0, delivery.Statistics.RequestsSent);
    }

    [Fact]
    public async Task An_unknown_build_session_is_said_once_and_footprints_still_go_without_names()
    {
        var backend = await _scope.StartBackendAsync();
        var delivery = _scope.AnnouncedDelivery(_scope.Options());

        await delivery.WriteBatchAsync(1);
        delivery.MarkFirstInvoke(DateTimeOffset.UtcNow);
        await delivery.SendUntilDeliveredAsync();
        await Sending.UntilAsync(() => EventTypes(backend).Count >= 2, "1001 and 1006");

        Assert.Equal(1, _scope.Log.Count("Sealights does not know build session bsid-1"));
        var footprints = Assert.Single(backend.FootprintsRecords());
        Assert.Null(Header(footprints, "x-sl-appname"));
        Assert.NotNull(Header(footprints, "sl-metadata"));
        Assert.Contains("labId=bsid-1", (string?)backend.Records().Single(r => Route(r) == "remote-config")["rawTarget"]);
        Assert.DoesNotContain("appName=", (string?)backend.Records().Single(r => Route(r) == "remote-config")["rawTarget"]);
    }

    [Fact]
    public async Task No_active_execution_gives_1007_and_the_remote_execution_interval_is_taken()
    {
        var backend = await BackendWithBuildSessionAsync(execution: null);
        await backend.SetModeAsync(new { mode = "remote-config", config = new { executionQueryIntervalSecs = 45, httpMaxAttempts = 6 } });
        var options = _scope.Options(("SL_TEST_STAGE", "Integration Tests"));
        var delivery = _scope.AnnouncedDelivery(options);

        delivery.MarkFirstInvoke(DateTimeOffset.UtcNow);
        await Sending.UntilAsync(() => EventTypes(backend).Count >= 2, "1001 and 1007");

        Assert.Equal([1001, 1007], EventTypes(backend));
        Assert.Equal(TimeSpan.FromSeconds(45), options.ExecutionRefreshInterval);
        Assert.Contains("testStage=Integration%20Tests&labId=bsid-1", (string?)backend.Records().Single(r => Route(r) == "remote-config")["rawTarget"]);
        Assert.Equal(1, _scope.Log.Count("remote configuration applied: executionQueryIntervalSecs: 45"));
    }

    [Fact]
    public async Task A_ping_goes_out_at_the_first_INVOKE_120_s_after_the_last_and_4006_once_when_footprints_fail()
    {
        var backend = await BackendWithBuildSessionAsync();
        var delivery = _scope.AnnouncedDelivery(_scope.Options());
        delivery.MarkFirstInvoke(DateTimeOffset.UtcNow);
        await Sending.UntilAsync(() => EventTypes(backend).Count >= 2, "1001 and 1006");

        _scope.Clock.Advance(TimeSpan.FromSeconds(119));
        delivery.Invoked();
        _scope.Clock.Advance(TimeSpan.FromSeconds(2));
        delivery.Invoked();
        delivery.Invoked();
        await Sending.UntilAsync(() => EventTypes(backend).Count >= 3, "the ping");

        await backend.SetModeAsync(new { mode = "error500" });
        await delivery.WriteBatchAsync(1);
        await Sending.UntilAsync(() => delivery.Statistics.FailedAttempts > 0, "a failed footprints request");
        await backend.SetModeAsync(new { mode = "ok" });
        delivery.Invoked();
        delivery.Invoked();
        // The delivery's clock is 121 s ahead now: the deadline is on it.
        await delivery.DrainAsync(_scope.Clock.GetUtcNow().AddSeconds(3));

        Assert.Equal([1001, 1006, 1003, 1010, 4006, 1002], EventTypes(backend));
        var ping = backend.Records().Single(r => Route(r) == "agent-events" && (int)r["body"]!["events"]![0]!["type"]! == 1003);
        Assert.Equal("bsid-1", (string?)ping["body"]!["events"]![0]!["data"]!["agentInfo"]!["labId"]);
    }

    [Fact]
    public async Task A_backend_answering_in_2_s_never_holds_a_send_opportunity_and_SHUTDOWN_ends_by_its_deadline()
    {
        var backend = await BackendWithBuildSessionAsync();
        await backend.SetDelayAsync(TimeSpan.FromSeconds(2));
        var delivery = _scope.AnnouncedDelivery(_scope.Options(("SL_REQUEST_TIMEOUT_MS", "5000")));

        await delivery.WriteBatchAsync(1);
        delivery.MarkFirstInvoke(DateTimeOffset.UtcNow);
        // The start calls are under way (the validation alone takes 2 s): the opportunity does not wait for them.
        Assert.Equal(SendOutcome.Busy, await delivery.SendPendingAsync(TimeSpan.FromMilliseconds(300)));
        Assert.False(delivery.Lifecycle!.Concluded.IsCompleted);

        // Every answer takes 2 s, the deadline is 1.5 s away: a drain that kept to it leaves the
        // batch undelivered and says it ran out of time (one that waited would have delivered it).
        var outcome = await delivery.DrainAsync(DateTimeOffset.UtcNow.AddMilliseconds(1500)).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(SendOutcome.OutOfTime, outcome);
        Assert.Equal(1, delivery.Statistics.UndeliveredAtShutdown);
        Assert.Empty(backend.FootprintsRecords());
    }
}
