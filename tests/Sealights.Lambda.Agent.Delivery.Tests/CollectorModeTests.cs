using System.Text.Json.Nodes;
using Sealights.Images.Testing;
using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// SL_COLLECTOR_URL as slnodejs 6.1.1133 does it with a collector URL (Conformance/README.md,
/// scenario <c>collector</c>), against a real backend process playing the collector.
/// </summary>
public sealed class CollectorModeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DeliveryScope _scope = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    private static string? Header(JsonObject record, string name) => (string?)record["headers"]![name];

    private async Task<(TestBackendProcess Backend, FootprintsDelivery Delivery)> StartAsync()
    {
        _scope.UseServer(null);
        // The backend has no execution: with a collector it must not matter.
        var backend = await _scope.StartBackendAsync(tokenNamesBackend: false, execution: null);
        var delivery = _scope.Delivery(_scope.Options(("SL_COLLECTOR_URL", $"http://127.0.0.1:{backend.Port}/collector"), ("SL_LAB_ID", "lab-c")));
        return (backend, delivery);
    }

    [Fact]
    public async Task Footprints_go_to_the_collector_route_without_any_execution_query_or_execution_id()
    {
        var (backend, delivery) = await StartAsync();
        delivery.Options.Metadata.Learn("orders-app", "main", "build-17");

        await delivery.WriteBatchAsync(1);
        await delivery.SendUntilDeliveredAsync();
        _scope.Clock.Advance(TimeSpan.FromSeconds(11));
        await delivery.WriteBatchAsync(2, isFinal: true);
        await delivery.SendUntilDeliveredAsync();

        Assert.Empty(backend.ExecutionQueries());
        Assert.Equal(0, delivery.Statistics.ExecutionQueries);
        var records = backend.FootprintsRecords();
        Assert.Equal(2, records.Count);
        foreach (var record in records)
        {
            Assert.Equal("/collector/v6/agents/bsid-1/footprints", (string?)record["rawTarget"]);
            Assert.Equal("application/json", Header(record, "content-type"));
            Assert.Equal("gzip", Header(record, "content-encoding"));
            Assert.Null(Header(record, "x-sl-executionid"));
            Assert.Equal("bsid-1", Header(record, "x-sl-bsid"));
            var body = record["body"]!;
            var execution = Assert.Single(body["executions"]!.AsArray())!.AsObject();
            Assert.False(execution.ContainsKey("executionId"));
            var meta = body["meta"]!.AsObject();
            Assert.Equal("agent", (string?)meta["footprintsMapping"]);
            var config = meta["agentConfig"]!.AsObject();
            Assert.Equal(
                ["agentId", "appName", "build", "branch", "buildSessionId", "labId", "agentVersion", "agentType"],
                config.Select(p => p.Key));
            Assert.Equal(delivery.Options.AgentId, (string?)config["agentId"]);
            Assert.Equal(("orders-app", "build-17", "main"), ((string?)config["appName"], (string?)config["build"], (string?)config["branch"]));
            Assert.Equal(("bsid-1", "lab-c"), ((string?)config["buildSessionId"], (string?)config["labId"]));
            Assert.Equal(AgentMetadata.AgentVersion, (string?)config["agentVersion"]);
            Assert.False(string.IsNullOrEmpty((string?)config["agentVersion"]));
            Assert.Equal("TestListener", (string?)config["agentType"]);
        }
        Assert.Equal([1, 2], backend.DeliveredMethods().Select(Hits.BatchOf).Distinct());
        Assert.True(backend.DeliveredHits()[^1].Final);
    }

    [Fact]
    public async Task Build_names_not_known_yet_are_left_out_of_agentConfig()
    {
        var (backend, delivery) = await StartAsync();

        await delivery.WriteBatchAsync(1);
        await delivery.SendUntilDeliveredAsync();

        var config = Assert.Single(backend.FootprintsRecords())["body"]!["meta"]!["agentConfig"]!.AsObject();
        Assert.Equal(["agentId", "buildSessionId", "labId", "agentVersion", "agentType"], config.Select(p => p.Key));
    }

    [Fact]
    public async Task Hits_are_never_dropped_for_want_of_an_execution()
    {
        var (backend, delivery) = await StartAsync();

        for (var batch = 1; batch <= 3; batch++)
        {
            await delivery.WriteBatchAsync(batch);
            _scope.Clock.Advance(TimeSpan.FromMinutes(20));
        }
        await delivery.SendUntilDeliveredAsync();

        Assert.Equal([1, 2, 3], backend.DeliveredMethods().Select(Hits.BatchOf).Distinct());
        Assert.Equal(0, delivery.Statistics.BatchesDropped);
    }
}
