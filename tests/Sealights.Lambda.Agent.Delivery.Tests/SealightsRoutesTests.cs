using Sealights.Coverage.Tokens;
using System.Text;
using System.Text.Json;

namespace Sealights.Lambda.Agent.Delivery.Tests;

public sealed class SealightsRoutesTests
{
    private static DeliveryOptions Options(string baseAddress, bool collector = false) => new()
    {
        BuildSessionId = "bsid/1",
        LabId = "lab 7",
        BaseAddress = new Uri(baseAddress),
        UsesCollector = collector,
        AgentId = "agent-1",
    };

    [Theory]
    [InlineData("https://acme.sealights.co/api")]
    [InlineData("https://acme.sealights.co/api/")]
    public void The_footprints_route_is_relative_to_the_servers_path_with_escaped_segments(string server)
    {
        var uri = SealightsRoutes.FootprintsUri(Options(server), new ActiveExecution("e", "bsid/1", "Functional Tests", "created"));

        Assert.Equal("https://acme.sealights.co/api/v6/agents/bsid%2F1/footprints/Functional%20Tests/bsid%2F1/", uri.AbsoluteUri);
    }

    [Fact]
    public void Footprints_go_to_the_executions_build_session_and_stage_with_the_agents_build_session_last()
    {
        // As Sealights' Node agent routes them when the lab's execution is an integration build's.
        var execution = new ActiveExecution("e-9", "integration-bsid", "Integration Tests", "created");
        var options = Options("https://acme.sealights.co/api") with { TestStage = "Unit Tests" };

        using var request = SealightsRoutes.FootprintsRequest(options, Token(), execution, "{}"u8.ToArray());

        Assert.Equal("https://acme.sealights.co/api/v6/agents/integration-bsid/footprints/Integration%20Tests/bsid%2F1/", request.RequestUri!.AbsoluteUri);
        Assert.Equal("bsid/1", request.Headers.GetValues("x-sl-bsid").Single());
        Assert.Equal("lab 7", request.Headers.GetValues("x-sl-labId").Single());
        Assert.Equal("e-9", request.Headers.GetValues("x-sl-executionId").Single());
    }

    [Fact]
    public void An_execution_without_a_build_session_is_taken_for_the_agents_own()
    {
        var uri = SealightsRoutes.FootprintsUri(Options("https://x/api"), new ActiveExecution("e", " ", null, null));

        Assert.Equal("https://x/api/v6/agents/bsid%2F1/footprints/Functional%20Tests/bsid%2F1/", uri.AbsoluteUri);
    }

    [Fact]
    public void A_collector_gets_the_collector_route()
    {
        var uri = SealightsRoutes.FootprintsUri(Options("http://collector:8080", collector: true), new ActiveExecution("e", "other-bsid", "ignored", null));

        Assert.Equal("http://collector:8080/v6/agents/bsid%2F1/footprints", uri.AbsoluteUri);
    }

    [Fact]
    public void The_active_execution_is_asked_for_the_lab()
    {
        Assert.Equal("https://acme.sealights.co/api/v4/testExecution/lab%207/", SealightsRoutes.ActiveExecutionUri(Options("https://acme.sealights.co/api")).AbsoluteUri);
    }

    [Fact]
    public void Routes_are_templates_that_settings_can_replace()
    {
        var options = Options("https://x.example/api") with { FootprintsRoute = "/v7/{labId}/{agentId}/fp" };

        Assert.Equal("https://x.example/api/v7/lab%207/agent-1/fp", SealightsRoutes.FootprintsUri(options, new ActiveExecution("e", null, "s", null)).AbsoluteUri);
    }

    [Theory]
    [InlineData("v6/{bsid}/{oops}", "uses an unknown placeholder {oops} (known: {bsid}, {labId}, {testStage}, {agentId}, {executionBsid})")]
    [InlineData("v6/{bsid", "has an unbalanced '{'")]
    [InlineData("v6/{bs{id}", "has an unbalanced '{'")]
    [InlineData("v6/bsid}", "has an unbalanced '}'")]
    [InlineData("https://elsewhere/v6", "must be a path relative to the server or collector address, not a URL")]
    [InlineData("v6/x?y=1", "must be a plain path (no spaces, query or fragment)")]
    public void Unusable_templates_are_named(string template, string problem)
    {
        Assert.StartsWith(problem, SealightsRoutes.TemplateProblem(template));
    }

    [Fact]
    public void The_default_templates_are_usable()
    {
        Assert.Null(SealightsRoutes.TemplateProblem(SealightsRoutes.DefaultFootprintsRoute));
        Assert.Null(SealightsRoutes.TemplateProblem(SealightsRoutes.DefaultCollectorFootprintsRoute));
        Assert.Null(SealightsRoutes.TemplateProblem(SealightsRoutes.DefaultActiveExecutionRoute));
    }

    [Fact]
    public void An_active_execution_is_read_from_its_answer()
    {
        var execution = SealightsRoutes.ParseActiveExecution(Encoding.UTF8.GetBytes(
            """{"execution":{"executionId":"e-1","buildSessionId":"b","testStage":"Regression","status":"created","other":1},"more":true}"""));

        Assert.Equal(new ActiveExecution("e-1", "b", "Regression", "created"), execution);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("""{"execution":null}""")]
    [InlineData("""{"execution":{"executionId":""}}""")]
    [InlineData("""{"execution":{"executionId":"e-1","status":"Ended"}}""")]
    public void No_execution_id_or_an_ended_status_means_none(string body)
    {
        Assert.Null(SealightsRoutes.ParseActiveExecution(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public void A_body_that_is_not_json_is_an_error_not_a_silent_none()
    {
        Assert.ThrowsAny<JsonException>(() => SealightsRoutes.ParseActiveExecution("<html>"u8));
    }

    [Fact]
    public void The_test_stage_is_the_executions_else_the_setting_else_the_default()
    {
        var execution = new ActiveExecution("e", null, "From Execution", null);
        var options = Options("https://x");

        // SL_TEST_STAGE must not send footprints to a stage that has no open execution.
        Assert.Equal("From Execution", SealightsRoutes.TestStageFor(options with { TestStage = "Set" }, execution));
        Assert.Equal("Set", SealightsRoutes.TestStageFor(options with { TestStage = "Set" }, execution with { TestStage = null }));
        Assert.Equal("Functional Tests", SealightsRoutes.TestStageFor(options, execution with { TestStage = null }));
    }

    [Fact]
    public async Task A_footprints_request_is_gzipped_octet_stream_with_bearer_auth_and_the_sl_headers()
    {
        var token = Token();
        var json = """{"formatVersion":"6.0"}"""u8.ToArray();

        using var request = SealightsRoutes.FootprintsRequest(Options("https://x/api"), token, new ActiveExecution("exec-3", null, "Stage", null), json);

        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal(token.BearerValue, request.Headers.GetValues("Authorization").Single());
        Assert.Equal("lab 7", request.Headers.GetValues("x-sl-labId").Single());
        Assert.Equal("bsid/1", request.Headers.GetValues("x-sl-bsid").Single());
        Assert.Equal("exec-3", request.Headers.GetValues("x-sl-executionId").Single());
        Assert.Equal("agent-1", request.Headers.GetValues("x-sl-agentId").Single());
        Assert.Equal(["gzip"], request.Content!.Headers.ContentEncoding);
        // As slnodejs sends footprints to the server (a collector gets application/json).
        Assert.Equal("application/octet-stream", request.Content.Headers.ContentType!.MediaType);
        var body = await request.Content.ReadAsByteArrayAsync();
        using var unzipped = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(new MemoryStream(body), System.IO.Compression.CompressionMode.Decompress))
        {
            gzip.CopyTo(unzipped);
        }
        Assert.Equal(json, unzipped.ToArray());
    }

    [Fact]
    public void A_collector_footprints_request_is_gzipped_json_without_an_execution_header()
    {
        using var request = SealightsRoutes.FootprintsRequest(Options("https://collector:8443/c", collector: true), Token(), execution: null, "{}"u8.ToArray());

        Assert.Equal("https://collector:8443/c/v6/agents/bsid%2F1/footprints", request.RequestUri!.AbsoluteUri);
        Assert.Equal(["gzip"], request.Content!.Headers.ContentEncoding);
        Assert.Equal("application/json", request.Content.Headers.ContentType!.MediaType);
        Assert.Null(request.Content.Headers.ContentType.CharSet);
        Assert.False(request.Headers.Contains("x-sl-executionId"));
        Assert.Equal("bsid/1", request.Headers.GetValues("x-sl-bsid").Single());
    }

    [Fact]
    public void A_pending_delete_execution_is_active_and_says_so()
    {
        var execution = SealightsRoutes.ParseActiveExecution("""{"execution":{"executionId":"e","buildSessionId":"b","testStage":"S","status":"PendingDelete"}}"""u8);

        Assert.NotNull(execution);
        Assert.True(execution.IsPendingDelete);
        Assert.False(SealightsRoutes.ParseActiveExecution("""{"execution":{"executionId":"e","status":"created"}}"""u8)!.IsPendingDelete);
    }

    private static SealightsToken Token()
    {
        Assert.True(SealightsToken.TryParse(Sealights.Images.Testing.SealightsTokens.Create(), out var token, out _));
        return token;
    }
}
