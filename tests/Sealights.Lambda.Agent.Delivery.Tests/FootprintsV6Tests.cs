using System.Text.Json;
using System.Text.Json.Nodes;
using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Sealights.Lambda.Agent.Footprints;
using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Delivery.Tests;

public sealed class FootprintsV6Tests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static JsonObject Parse(byte[] json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void Methods_are_listed_once_and_every_hits_entry_refers_to_them_by_index()
    {
        var first = new FootprintsHits(["A|N.T|a()", "A|N.T|b()"], 1, 2, false, false);
        var second = new FootprintsHits(["A|N.T|b()", "A|N.T|c()"], 3, 4, false, false);

        var document = Parse(FootprintsV6.Serialize("agent-1", "lab-1", "exec-1", [first, second]));

        Assert.Equal(["A|N.T|a()", "A|N.T|b()", "A|N.T|c()"], document["methods"]!.AsArray().Select(m => (string)m!));
        var hits = document["executions"]![0]!["hits"]!.AsArray();
        Assert.Equal([0, 1], hits[0]!["methods"]!.AsArray().Select(i => (int)i!));
        Assert.Equal([1, 2], hits[1]!["methods"]!.AsArray().Select(i => (int)i!));
    }

    [Fact]
    public void The_document_has_the_v6_shape()
    {
        var entry = new FootprintsHits(["A|N.T|a()"], 1_767_268_800_250, 1_767_268_801_400, false, false);

        var document = Parse(FootprintsV6.Serialize("agent-1", "lab-1", "exec-1", [entry]));

        Assert.Equal("6.0", (string?)document["formatVersion"]);
        Assert.Equal("agent-1", (string?)document["meta"]!["agentId"]);
        Assert.Equal("lab-1", (string?)document["meta"]!["labId"]);
        Assert.Equal(10, (int)document["meta"]!["intervals"]!["timedFootprintsCollectionIntervalSeconds"]!);
        Assert.Empty(document["branches"]!.AsArray());
        var execution = Assert.Single(document["executions"]!.AsArray())!;
        Assert.Equal("exec-1", (string?)execution["executionId"]);
        var hits = Assert.Single(execution["hits"]!.AsArray())!.AsObject();
        // Epoch seconds, as slnodejs sends them: the span widened to whole seconds.
        Assert.Equal(1_767_268_800, (long)hits["start"]!);
        Assert.Equal(1_767_268_802, (long)hits["end"]!);
        Assert.Empty(hits["branches"]!.AsArray());
        // testName and both flags are always present, as slnodejs sends them.
        Assert.True(hits.ContainsKey("testName"));
        Assert.Null(hits["testName"]);
        Assert.Equal(JsonValueKind.False, hits["isInitFootprints"]!.GetValueKind());
        Assert.Equal(JsonValueKind.False, hits["isFinalFootprints"]!.GetValueKind());
        // Collector-only fields are absent for an execution.
        Assert.False(document["meta"]!.AsObject().ContainsKey("footprintsMapping"));
        Assert.False(document["meta"]!.AsObject().ContainsKey("agentConfig"));
    }

    [Fact]
    public void A_collector_document_has_no_execution_id_and_says_who_sent_it()
    {
        var entry = new FootprintsHits(["A|N.T|a()"], 1000, 2000, false, false);
        var config = new AgentConfigMeta { AgentId = "agent-1", BuildSessionId = "bsid-1", LabId = "lab-1", AgentVersion = "1.2.3", AgentType = "TestListener" };

        var document = Parse(FootprintsV6.Serialize("agent-1", "lab-1", executionId: null, [entry], config));

        var execution = Assert.Single(document["executions"]!.AsArray())!.AsObject();
        Assert.False(execution.ContainsKey("executionId"));
        Assert.Equal("agent", (string?)document["meta"]!["footprintsMapping"]);
        var agentConfig = document["meta"]!["agentConfig"]!.AsObject();
        Assert.Equal(["agentId", "buildSessionId", "labId", "agentVersion", "agentType"], agentConfig.Select(p => p.Key));
        Assert.Equal(("agent-1", "bsid-1", "lab-1", "1.2.3"), ((string?)agentConfig["agentId"], (string?)agentConfig["buildSessionId"], (string?)agentConfig["labId"], (string?)agentConfig["agentVersion"]));
    }

    [Fact]
    public void Start_and_end_are_the_earliest_and_latest_event_timestamps()
    {
        IReadOnlyList<MethodHit> hits =
        [
            new(Hits.Method(1, 0), T0.AddMilliseconds(30)),
            new(Hits.Method(1, 1), T0.AddMilliseconds(10)),
            new(Hits.Method(1, 2), T0.AddMilliseconds(20)),
        ];

        var entry = Assert.Single(FootprintsHitsBuilder.FromMethodHits(hits, firstInvokeAt: T0.AddSeconds(-1), isFinal: false));

        Assert.Equal(T0.ToUnixTimeMilliseconds() + 10, entry.StartMs);
        Assert.Equal(T0.ToUnixTimeMilliseconds() + 30, entry.EndMs);
        Assert.Equal([Hits.Method(1, 0).Id, Hits.Method(1, 1).Id, Hits.Method(1, 2).Id], entry.Methods);
    }

    [Fact]
    public void Methods_first_seen_before_the_first_invoke_are_init_footprints_with_their_own_span()
    {
        IReadOnlyList<MethodHit> hits =
        [
            new(Hits.Method(1, 0), T0.AddMilliseconds(-50)),
            new(Hits.Method(1, 1), T0.AddMilliseconds(5)),
            new(Hits.Method(1, 2), T0.AddMilliseconds(-20)),
            new(Hits.Method(1, 3), T0.AddMilliseconds(40)),
        ];

        var entries = FootprintsHitsBuilder.FromMethodHits(hits, firstInvokeAt: T0, isFinal: false);

        Assert.Equal(2, entries.Count);
        Assert.True(entries[0].IsInit);
        Assert.Equal([Hits.Method(1, 0).Id, Hits.Method(1, 2).Id], entries[0].Methods);
        Assert.Equal((T0.ToUnixTimeMilliseconds() - 50, T0.ToUnixTimeMilliseconds() - 20), (entries[0].StartMs, entries[0].EndMs));
        Assert.False(entries[1].IsInit);
        Assert.Equal([Hits.Method(1, 1).Id, Hits.Method(1, 3).Id], entries[1].Methods);
        Assert.Equal((T0.ToUnixTimeMilliseconds() + 5, T0.ToUnixTimeMilliseconds() + 40), (entries[1].StartMs, entries[1].EndMs));

        var document = Parse(FootprintsV6.Serialize("a", "l", "e", entries));
        var wire = document["executions"]![0]!["hits"]!.AsArray();
        Assert.True((bool)wire[0]!["isInitFootprints"]!);
        Assert.False((bool)wire[1]!["isInitFootprints"]!);
    }

    [Fact]
    public void Probe_hits_make_one_entry_spanning_their_invocation_and_count_as_init_only_when_wholly_before_the_first_invoke()
    {
        // A probe flush: every method its invocation ran, dated from the INVOKE to the harvest.
        var harvest = T0.AddMilliseconds(75);
        IReadOnlyList<MethodHit> invocation = [new(Hits.Method(1, 0), T0, harvest), new(Hits.Method(1, 1), T0, harvest)];
        IReadOnlyList<MethodHit> beforeAnyInvoke = [new(Hits.Method(1, 2), T0.AddSeconds(-3), T0.AddSeconds(-1))];

        var entry = Assert.Single(FootprintsHitsBuilder.FromMethodHits(invocation, firstInvokeAt: T0, isFinal: false));
        var init = Assert.Single(FootprintsHitsBuilder.FromMethodHits(beforeAnyInvoke, firstInvokeAt: T0, isFinal: true));

        Assert.False(entry.IsInit);
        Assert.Equal([Hits.Method(1, 0).Id, Hits.Method(1, 1).Id], entry.Methods);
        Assert.Equal((T0.ToUnixTimeMilliseconds(), harvest.ToUnixTimeMilliseconds()), (entry.StartMs, entry.EndMs));
        Assert.True(init.IsInit);
        Assert.Equal((T0.AddSeconds(-3).ToUnixTimeMilliseconds(), T0.AddSeconds(-1).ToUnixTimeMilliseconds()), (init.StartMs, init.EndMs));
    }

    [Fact]
    public void Before_the_first_invoke_is_known_every_hit_is_init()
    {
        var entry = Assert.Single(FootprintsHitsBuilder.FromMethodHits(Hits.Batch(1, 3, T0), firstInvokeAt: null, isFinal: false));

        Assert.True(entry.IsInit);
        Assert.Equal(3, entry.Methods.Count);
    }

    [Fact]
    public void The_shutdown_flush_is_final_on_every_entry_and_other_flushes_are_not()
    {
        IReadOnlyList<MethodHit> hits = [new(Hits.Method(1, 0), T0.AddMilliseconds(-1)), new(Hits.Method(1, 1), T0.AddMilliseconds(1))];

        var final = FootprintsHitsBuilder.FromMethodHits(hits, T0, isFinal: true);
        var ordinary = FootprintsHitsBuilder.FromMethodHits(hits, T0, isFinal: false);

        Assert.All(final, e => Assert.True(e.IsFinal));
        Assert.All(ordinary, e => Assert.False(e.IsFinal));
        var wire = Parse(FootprintsV6.Serialize("a", "l", "e", final))["executions"]![0]!["hits"]!.AsArray();
        Assert.All(wire, h => Assert.True((bool)h!["isFinalFootprints"]!));
    }

    [Fact]
    public void A_method_reported_twice_in_a_flush_appears_once_with_its_earliest_time()
    {
        IReadOnlyList<MethodHit> hits = [new(Hits.Method(1, 0), T0.AddMilliseconds(9)), new(Hits.Method(1, 0), T0.AddMilliseconds(3))];

        var entry = Assert.Single(FootprintsHitsBuilder.FromMethodHits(hits, T0.AddSeconds(-1), isFinal: false));

        Assert.Single(entry.Methods);
        Assert.Equal(T0.ToUnixTimeMilliseconds() + 3, entry.StartMs);
        Assert.Equal(T0.ToUnixTimeMilliseconds() + 3, entry.EndMs);
    }

    [Fact]
    public void An_empty_flush_gives_no_entry()
    {
        Assert.Empty(FootprintsHitsBuilder.FromMethodHits([], T0, isFinal: true));
    }
}
