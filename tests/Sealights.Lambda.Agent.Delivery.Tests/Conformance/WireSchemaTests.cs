using System.Text.Json.Nodes;

namespace Sealights.Lambda.Agent.Delivery.Tests.Conformance;

/// <summary>The schema extractor and comparer of the conformance test, and its list of deliberate differences.</summary>
public sealed class WireSchemaTests
{
    private const string Bsid = "3f0c5a4e-7d1b-4c2a-9e8f-1a2b3c4d5e6f";

    private static readonly WireVocabulary Vocabulary = new([(Bsid, "{bsid}"), ("Functional Tests", "{testStage}")], ["$.env"]);

    private static JsonObject Record(string method, string path, JsonObject? headers = null, JsonNode? body = null, JsonObject? query = null) => new()
    {
        ["method"] = method,
        ["path"] = path,
        ["query"] = query ?? [],
        ["headers"] = headers ?? new JsonObject { ["host"] = "127.0.0.1:1" },
        ["bodyKind"] = body is null ? "empty" : "gzip+json",
        ["body"] = body,
    };

    private static JsonObject Footprints(JsonObject body, string contentType = "application/octet-stream") =>
        Record("POST", $"/api/v6/agents/{Bsid}/footprints/Functional Tests/{Bsid}/", new JsonObject
        {
            ["content-type"] = contentType,
            ["x-sl-bsid"] = Bsid,
            ["x-sl-agentid"] = "0b7e6a63-33c5-4b6e-9a55-31a3d6f1c2aa",
            ["content-length"] = "123",
        }, body);

    [Fact]
    public void Routes_are_templates_with_placeholders_and_guids()
    {
        var schema = WireSchema.Extract(
            [Footprints(new JsonObject()), Record("GET", "/api/v2/agents/buildsession/0b7e6a63-33c5-4b6e-9a55-31a3d6f1c2aa/")],
            Vocabulary);

        Assert.Equal(
            ["GET /api/v2/agents/buildsession/{guid}/", "POST /api/v6/agents/{bsid}/footprints/{testStage}/{bsid}/"],
            schema.Routes.Keys);
    }

    [Fact]
    public void Headers_keep_literal_values_where_the_value_is_the_protocol_and_shapes_elsewhere()
    {
        var route = WireSchema.Extract([Footprints(new JsonObject())], Vocabulary).Routes.Single().Value;
        var headers = route.Aspects().Single(a => a.Aspect == "header").Facets;

        Assert.Equal("\"application/octet-stream\" always", headers["content-type"].ToString());
        Assert.Equal("{bsid} always", headers["x-sl-bsid"].ToString());
        Assert.Equal("guid always", headers["x-sl-agentid"].ToString());
        Assert.False(headers.ContainsKey("content-length"));
    }

    [Theory]
    [InlineData("1796582130", "number:epoch-s")]
    [InlineData("1796582130717", "number:epoch-ms")]
    [InlineData("7", "number:integer")]
    [InlineData("2.5", "number:fraction")]
    [InlineData("\"<jwt redacted>\"", "string:jwt")]
    [InlineData("\"http://127.0.0.1:5/api\"", "string:url")]
    [InlineData("\"2026-12-06T19:41:42.503Z\"", "string:datetime")]
    [InlineData("\"{\\\"b\\\":1,\\\"a\\\":2}\"", "string:json{a,b}")]
    [InlineData("\"3f0c5a4e-7d1b-4c2a-9e8f-1a2b3c4d5e6f\"", "string:{bsid}")]
    [InlineData("\"exec-1\"", "string:string")]
    [InlineData("true", "boolean")]
    [InlineData("null", "null")]
    public void Values_are_reduced_to_their_shape(string json, string shape)
    {
        Assert.Equal(shape, WireSchema.ValueShape(JsonNode.Parse(json), Vocabulary));
    }

    [Fact]
    public void A_field_missing_from_some_objects_is_sometimes_and_one_in_all_is_always()
    {
        var first = JsonNode.Parse("""{"executions":[{"hits":[{"start":1796582130,"isInitFootprints":true},{"start":1796582131}]}]}""")!.AsObject();
        var second = JsonNode.Parse("""{"executions":[{"hits":[{"start":1796582140}]}]}""")!.AsObject();
        var body = WireSchema.Extract([Footprints(first), Footprints(second)], Vocabulary).Routes.Single().Value.Aspects().Single(a => a.Aspect == "body").Facets;

        Assert.Equal("number:epoch-s always", body["$.executions[].hits[].start"].ToString());
        Assert.Equal("boolean sometimes", body["$.executions[].hits[].isInitFootprints"].ToString());
        Assert.Equal("object always", body["$.executions[].hits[]"].ToString());
        Assert.Equal("object always", body["$"].ToString());
    }

    [Fact]
    public void Empty_arrays_have_no_element_path_and_an_element_in_some_arrays_is_sometimes()
    {
        var body = WireSchema.Extract(
            [Footprints(JsonNode.Parse("""{"branches":[],"methods":["a"]}""")!.AsObject()), Footprints(JsonNode.Parse("""{"branches":[],"methods":[]}""")!.AsObject())],
            Vocabulary).Routes.Single().Value.Aspects().Single(a => a.Aspect == "body").Facets;

        Assert.Equal("array always", body["$.branches"].ToString());
        Assert.False(body.ContainsKey("$.branches[]"));
        Assert.Equal("string:string sometimes", body["$.methods[]"].ToString());
    }

    [Fact]
    public void Keys_of_a_map_path_fold_into_a_star_present_when_the_map_has_any()
    {
        var body = WireSchema.Extract(
            [Footprints(JsonNode.Parse("""{"env":{"PATH":"/bin","HOME":"/root"}}""")!.AsObject()), Footprints(JsonNode.Parse("""{"env":{"LANG":"C"}}""")!.AsObject())],
            Vocabulary).Routes.Single().Value.Aspects().Single(a => a.Aspect == "body").Facets;

        Assert.Equal("string:string always", body["$.env.*"].ToString());
        Assert.DoesNotContain("$.env.PATH", body.Keys);
    }

    [Fact]
    public void Events_count_once_per_event_type()
    {
        var events = JsonNode.Parse("""{"agentId":"a","events":[{"type":1001,"data":{"agentInfo":{}}},{"type":1010}]}""")!.AsObject();
        var schema = WireSchema.Extract([Record("POST", "/api/v3/agents/agent-events/", body: events)], Vocabulary);

        Assert.Equal(["POST /api/v3/agents/agent-events/ #type=1001", "POST /api/v3/agents/agent-events/ #type=1010"], schema.Routes.Keys);
        var body1010 = schema.Routes["POST /api/v3/agents/agent-events/ #type=1010"].Aspects().Single(a => a.Aspect == "body").Facets;
        Assert.False(body1010.ContainsKey("$.events[].data"));
    }

    [Fact]
    public void Compare_names_routes_of_one_side_and_every_facet_that_differs()
    {
        var reference = WireSchema.Extract(
            [Footprints(JsonNode.Parse("""{"executions":[{"hits":[{"start":1796582130,"testName":""}]}]}""")!.AsObject()), Record("GET", "/api/v3/config", query: new JsonObject { ["agentId"] = "0b7e6a63-33c5-4b6e-9a55-31a3d6f1c2aa" })],
            Vocabulary);
        var ours = WireSchema.Extract(
            [Footprints(JsonNode.Parse("""{"executions":[{"hits":[{"start":1796582130717}]}]}""")!.AsObject(), "application/json; charset=utf-8")],
            Vocabulary);

        Assert.Equal(
            [
                "GET /api/v3/config: slnodejs only",
                "POST /api/v6/agents/{bsid}/footprints/{testStage}/{bsid}/ header content-type: slnodejs \"application/octet-stream\" always, ours \"application/json; charset=utf-8\" always",
                "POST /api/v6/agents/{bsid}/footprints/{testStage}/{bsid}/ body $.executions[].hits[].start: slnodejs number:epoch-s always, ours number:epoch-ms always",
                "POST /api/v6/agents/{bsid}/footprints/{testStage}/{bsid}/ body $.executions[].hits[].testName: slnodejs string:empty always, ours absent",
            ],
            WireSchema.Compare(reference, ours));
        Assert.Empty(WireSchema.Compare(ours, ours));
    }

    [Fact]
    public void The_list_accepts_exactly_its_differences_in_its_scenarios()
    {
        var listed = DeliberateDifferences.Parse("""
            # heading

            | scenarios | difference | reason |
            |---|---|---|
            | * | `GET /api/v3/config: slnodejs only` | not yet |
            | collector | `POST * header content-type: *` | the collector takes JSON |
            """);
        Assert.Equal(2, listed.Count);

        Assert.Equal("", DeliberateDifferences.Check(listed, new Dictionary<string, IReadOnlyList<string>>
        {
            ["a"] = ["GET /api/v3/config: slnodejs only"],
            ["collector"] = ["POST /x header content-type: slnodejs \"a\" always, ours \"b\" always"],
        }));

        var unlisted = DeliberateDifferences.Check(listed, new Dictionary<string, IReadOnlyList<string>>
        {
            ["a"] = ["GET /api/v3/config: slnodejs only", "POST /x header content-type: slnodejs \"a\" always, ours \"b\" always"],
            ["collector"] = [],
        });
        Assert.Contains("[a] differences not in deliberate-differences.md", unlisted);
        Assert.Contains("  POST /x header content-type", unlisted);
        Assert.Contains("line 6: collector `POST * header content-type: *`", unlisted);
    }

    [Fact]
    public void A_row_without_a_reason_or_pattern_is_refused()
    {
        Assert.Throws<FormatException>(() => DeliberateDifferences.Parse("| * | `GET /x: slnodejs only` | |"));
        Assert.Throws<FormatException>(() => DeliberateDifferences.Parse("| * | `GET /x` | a | b |"));
    }

    /// <summary>The extractor on a real recording (the checked-in slnodejs fixture): the facts the protocol notes state.</summary>
    [Fact]
    public void On_slnodejs_recording_it_finds_the_documented_footprints_shape()
    {
        var records = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Conformance", "slnodejs-6.1.1133", "active-execution.jsonl"))
            .Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var bsid = (string)records.First(r => (string?)r["route"] == "footprints")["headers"]!["x-sl-bsid"]!;
        var schema = WireSchema.Extract(records, new WireVocabulary([(bsid, "{bsid}"), ("Functional Tests", "{testStage}")], []));

        var footprints = schema.Routes["POST /api/v6/agents/{bsid}/footprints/{testStage}/{bsid}/"];
        var body = footprints.Aspects().Single(a => a.Aspect == "body").Facets;
        var headers = footprints.Aspects().Single(a => a.Aspect == "header").Facets;
        Assert.Equal("number:epoch-s always", body["$.executions[].hits[].start"].ToString());
        Assert.Equal("boolean always", body["$.executions[].hits[].isInitFootprints"].ToString());
        Assert.Equal("\"application/octet-stream\" always", headers["content-type"].ToString());
        Assert.Equal("{bsid} always", headers["x-sl-bsid"].ToString());
        Assert.Contains("POST /api/v3/agents/agent-events/ #type=1006", schema.Routes.Keys);
        Assert.Contains("GET /api/v4/testExecution/{bsid}/", schema.Routes.Keys);
    }

    [Fact]
    public void Token_leaks_are_found_whole_in_part_and_where_the_backend_redacted_them()
    {
        var token = Sealights.Images.Testing.SealightsTokens.Create();
        var parts = token.Split('.');
        const string Clean = """{"headers":{"authorization":"Bearer <jwt claims: subject,x-sl-role,x-sl-server>"}}""";

        Assert.Empty(TokenLeaks.Find(token, Clean, "INFO footprints go to the server"));
        Assert.Equal(["a JWT outside the Authorization header of a request (the backend redacted it)"], TokenLeaks.Find(token, Clean + """{"body":{"token":"<jwt redacted>"}}""", ""));
        Assert.Equal(["its signature in the requests"], TokenLeaks.Find(token, Clean + parts[2], ""));
        Assert.Equal(["the token in the log", "its claims part in the log", "its signature in the log"], TokenLeaks.Find(token, Clean, "token=" + token));
    }
}
