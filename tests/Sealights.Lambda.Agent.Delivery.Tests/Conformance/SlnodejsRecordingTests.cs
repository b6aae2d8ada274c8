using System.Text.Json.Nodes;

namespace Sealights.Lambda.Agent.Delivery.Tests.Conformance;

/// <summary>
/// The slnodejs recordings (see README.md here) stay a usable, token-free test asset, and the
/// protocol facts the README states about them hold for the files as committed.
/// </summary>
public sealed class SlnodejsRecordingTests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Conformance", "slnodejs-6.1.1133");

    private static readonly string[] Scenarios =
    [
        "active-execution", "late-execution-and-gap", "execution-ends-before-send", "no-execution", "footprints-5xx",
        "other-build-session", "execution-switch-and-pending-delete", "sigterm-shutdown", "remote-config-disabled", "collector", "bad-tokens",
    ];

    private static IReadOnlyList<JsonObject> Requests(string scenario) =>
        File.ReadAllLines(Path.Combine(Fixtures, scenario + ".jsonl"))
            .Where(l => l.Length > 0)
            .Select(l => JsonNode.Parse(l)!.AsObject())
            .ToList();

    private static IEnumerable<JsonObject> Footprints(string scenario) =>
        Requests(scenario).Where(r => ((string?)r["route"])!.EndsWith("footprints", StringComparison.Ordinal));

    private static string Header(JsonObject request, string name) => (string?)request["headers"]![name] ?? "";

    [Fact]
    public void Every_scenario_is_recorded_token_free_and_every_route_slnodejs_called_was_answered()
    {
        foreach (var scenario in Scenarios)
        {
            var requests = Requests(scenario);
            Assert.NotEmpty(requests);
            Assert.All(requests, r => Assert.Equal("Bearer <jwt claims: subject,x-sl-role,x-sl-server>", Header(r, "authorization")));
            Assert.DoesNotContain(requests, r => (string?)r["route"] == "unknown");
            foreach (var file in new[] { scenario + ".jsonl", scenario + ".log" })
            {
                // A JWT's header and payload both start with "eyJ" ({"…).
                Assert.DoesNotContain("eyJ", File.ReadAllText(Path.Combine(Fixtures, file)), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Footprints_go_to_the_executions_build_session_and_stage_with_the_agents_bsid_last()
    {
        var request = Footprints("other-build-session").First();
        var segments = ((string)request["path"]!).Split('/');
        var agentBsid = Header(request, "x-sl-bsid");

        Assert.Equal(["", "api", "v6", "agents"], segments[..4]);
        Assert.NotEqual(agentBsid, segments[4]);
        Assert.Equal(["footprints", "Integration Tests", agentBsid, ""], segments[5..]);
        Assert.Equal("exec-int", Header(request, "x-sl-executionid"));
        Assert.Equal(agentBsid, (string?)request["body"]!["meta"]!["labId"]);
        Assert.Equal("application/octet-stream", Header(request, "content-type"));
        Assert.Equal("gzip", Header(request, "content-encoding"));
    }

    [Fact]
    public void Hits_entries_carry_interval_seconds_and_always_the_three_flags()
    {
        var entries = Footprints("active-execution")
            .SelectMany(r => r["body"]!["executions"]!.AsArray())
            .SelectMany(e => e!["hits"]!.AsArray())
            .Select(h => h!.AsObject())
            .ToList();

        Assert.NotEmpty(entries);
        Assert.True((bool)entries[0]["isInitFootprints"]!);
        Assert.All(entries, h =>
        {
            Assert.True(h.ContainsKey("testName") && h.ContainsKey("isInitFootprints") && h.ContainsKey("isFinalFootprints"));
            // Epoch seconds (about 1.8e9 now), not milliseconds.
            Assert.InRange((long)h["start"]!, 1_000_000_000L, 9_999_999_999L);
            Assert.Equal(10, (long)h["end"]! - (long)h["start"]!);
        });
    }

    [Fact]
    public void A_collector_gets_no_execution_and_the_agent_configuration_in_meta()
    {
        var requests = Requests("collector");
        var request = Footprints("collector").First();

        Assert.Equal("collector-footprints", (string?)request["route"]);
        Assert.StartsWith("/collector/v6/agents/", (string?)request["path"]);
        Assert.False(request["headers"]!.AsObject().ContainsKey("x-sl-executionid"));
        Assert.All(request["body"]!["executions"]!.AsArray(), e => Assert.False(e!.AsObject().ContainsKey("executionId")));
        Assert.Equal("agent", (string?)request["body"]!["meta"]!["footprintsMapping"]);
        Assert.NotNull(request["body"]!["meta"]!["agentConfig"]!["buildSessionId"]);
        // Nobody asks the collector or the server for the active execution.
        Assert.DoesNotContain(requests, r => (string?)r["route"] == "execution");
    }

    [Fact]
    public void Hits_made_while_no_execution_is_open_after_the_first_one_are_dropped()
    {
        var methods = Footprints("late-execution-and-gap")
            .SelectMany(r => r["body"]!["methods"]!.AsArray().Select(m => (string)m!))
            .ToHashSet();

        Assert.Contains("app/calc.js@2,9", methods);     // add, t=2: before any execution, sent as init
        Assert.Contains("app/calc.js@5,9", methods);     // subtract, t=110: exec-2
        Assert.DoesNotContain("app/calc.js@4,9", methods); // divide, t=70: between exec-1 and exec-2
    }

    [Fact]
    public void Hits_collected_for_an_execution_that_ends_before_the_next_send_are_lost()
    {
        var methods = Footprints("execution-ends-before-send")
            .SelectMany(r => r["body"]!["methods"]!.AsArray().Select(m => (string)m!))
            .ToHashSet();

        Assert.Equal(["app/calc.js@5,24", "app/calc.js@5,9"], methods.Where(m => m.StartsWith("app/calc.js", StringComparison.Ordinal)).Order());
        Assert.Contains("Cannot read properties of undefined (reading 'buildSessionId')",
            File.ReadAllText(Path.Combine(Fixtures, "execution-ends-before-send.log")), StringComparison.Ordinal);
        Assert.Contains(Requests("execution-ends-before-send"), r => Header(r, "x-sl-messagetype") == "4006");
    }

    [Fact]
    public void On_SIGTERM_the_agent_sends_its_shutdown_event_and_one_last_request_ending_with_final_footprints()
    {
        var requests = Requests("sigterm-shutdown");
        var last = Footprints("sigterm-shutdown").Last();
        var entries = last["body"]!["executions"]!.AsArray().SelectMany(e => e!["hits"]!.AsArray()).ToList();

        Assert.True((bool)entries[^1]!["isFinalFootprints"]!);
        Assert.Contains(requests, r => (string?)r["route"] == "agent-events" && Header(r, "x-sl-messagetype") == "1002"
            && Header(r, "x-sl-agentid") == Header(last, "x-sl-agentid"));
    }

    [Fact]
    public void After_a_direct_execution_change_the_old_hits_keep_their_execution_in_the_body_on_the_new_route()
    {
        var footprints = Footprints("execution-switch-and-pending-delete").ToList();
        var first = footprints[0];
        var methods = footprints.SelectMany(r => r["body"]!["methods"]!.AsArray().Select(m => (string)m!)).ToHashSet();

        Assert.Equal("exec-2", Header(first, "x-sl-executionid"));
        Assert.Contains("/footprints/Regression Tests/", (string?)first["path"]);
        Assert.All(first["body"]!["executions"]!.AsArray(), e => Assert.Equal("exec-1", (string?)e!["executionId"]));
        Assert.DoesNotContain("app/calc.js@5,9", methods); // subtract, t=55: made while exec-2 was pendingDelete
    }

    [Fact]
    public void Refused_tokens_make_no_request()
    {
        var log = File.ReadAllText(Path.Combine(Fixtures, "bad-tokens.log"));
        var lastBuildRequest = Requests("bad-tokens").Max(r => DateTimeOffset.Parse((string)r["time"]!));
        var firstBadToken = log.Split('\n').First(l => l.StartsWith("### ", StringComparison.Ordinal) && l.Contains("token claims", StringComparison.Ordinal));

        Assert.Contains("Token is invalid. Doesn't contains role", log, StringComparison.Ordinal);
        Assert.Contains("Token is invalid. Expected role to be agent but got user", log, StringComparison.Ordinal);
        Assert.Contains("Token is invalid. Doesn't contains customerId", log, StringComparison.Ordinal);
        // Every request is from the build phase with the good token, before the first bad one.
        Assert.True(lastBuildRequest.TimeOfDay < TimeSpan.Parse(firstBadToken.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture));
    }
}
