using System.Globalization;
using System.IO.Compression;
using System.Text;
using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// What the mutation run of the small Delivery files showed untested: the requests of the
/// lifecycle calls and agent events (route, headers), route templates at their edges, ended
/// statuses, names learnt again, the runtimeconfig's odd shapes, and the machine facts.
/// </summary>
public sealed class RequestShapesEdgeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DeliveryScope _scope = new(output, server: "https://acme.sealights.co/api");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    private DeliveryOptions Options() => _scope.Options(("SL_LAB_ID", "lab+1")) with { AgentId = "agent-9" };

    private void AssertCommonHeaders(HttpRequestMessage request, DeliveryOptions options)
    {
        Assert.Equal(_scope.Token.BearerValue, request.Headers.GetValues("Authorization").Single());
        Assert.Equal("lab+1", request.Headers.GetValues("x-sl-labId").Single());
        Assert.Equal("bsid-1", request.Headers.GetValues("x-sl-bsid").Single());
        Assert.Equal("agent-9", request.Headers.GetValues("x-sl-agentId").Single());
        Assert.Equal(options.Metadata.MetadataJson(options), request.Headers.GetValues(AgentMetadata.MetadataHeader).Single());
    }

    [Fact]
    public void The_active_execution_query_asks_for_json_with_the_common_headers()
    {
        var options = Options();

        using var request = SealightsRoutes.ActiveExecutionRequest(options, _scope.Token);

        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("https://acme.sealights.co/api/v4/testExecution/lab%2B1/", request.RequestUri!.AbsoluteUri);
        Assert.Equal(["application/json"], request.Headers.Accept.Select(a => a.MediaType));
        AssertCommonHeaders(request, options);
    }

    [Fact]
    public void The_build_session_and_remote_configuration_calls_go_below_the_tokens_server_path_asking_for_json()
    {
        var options = Options() with { BuildSessionId = "b/1" };

        using var session = SealightsRoutes.BuildSessionRequest(options, _scope.Token);
        using var configuration = SealightsRoutes.RemoteConfigurationRequest(options, _scope.Token);

        Assert.Equal("https://acme.sealights.co/api/v2/agents/buildsession/b%2F1/", session.RequestUri!.AbsoluteUri);
        Assert.Equal(HttpMethod.Get, session.Method);
        Assert.Equal(["application/json"], session.Headers.Accept.Select(a => a.MediaType));
        Assert.Equal("b/1", session.Headers.GetValues("x-sl-bsid").Single());
        Assert.StartsWith("https://acme.sealights.co/api/v3/config?", configuration.RequestUri!.AbsoluteUri, StringComparison.Ordinal);
        Assert.Equal(["application/json"], configuration.Headers.Accept.Select(a => a.MediaType));
        Assert.Equal(_scope.Token.BearerValue, configuration.Headers.GetValues("Authorization").Single());
        Assert.True(configuration.Headers.Contains(AgentMetadata.MetadataHeader));
    }

    [Fact]
    public async Task An_agent_event_is_gzipped_json_with_its_type_code_and_the_last_execution_seen()
    {
        var options = Options();
        var before = SealightsRoutes.AgentEventRequest(options, _scope.Token, AgentEventType.Ping, "{}"u8.ToArray());
        options.Metadata.SawExecution("exec-5");
        var json = """{"events":[]}"""u8.ToArray();

        using var request = SealightsRoutes.AgentEventRequest(options, _scope.Token, AgentEventType.ExecutionFound, json);

        Assert.False(before.Headers.Contains("x-sl-executionId"));
        before.Dispose();
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("https://acme.sealights.co/api/v3/agents/agent-events/", request.RequestUri!.AbsoluteUri);
        Assert.Equal("application/json", request.Content!.Headers.ContentType!.MediaType);
        Assert.Equal(["gzip"], request.Content.Headers.ContentEncoding);
        Assert.Equal("exec-5", request.Headers.GetValues("x-sl-executionId").Single());
        Assert.Equal("1006", request.Headers.GetValues("x-sl-messageType").Single());
        AssertCommonHeaders(request, options);
        using var unzipped = new MemoryStream();
        using (var gzip = new GZipStream(new MemoryStream(await request.Content.ReadAsByteArrayAsync()), CompressionMode.Decompress))
        {
            gzip.CopyTo(unzipped);
        }
        Assert.Equal(json, unzipped.ToArray());
    }

    [Fact]
    public void A_footprints_request_names_its_execution_in_sl_metadata_and_a_collector_never_gets_the_execution_header()
    {
        var options = Options();
        var execution = new ActiveExecution("exec-7", null, "Stage", null);

        using var server = SealightsRoutes.FootprintsRequest(options, _scope.Token, execution, "{}"u8.ToArray());
        var collectorOptions = Options() with { UsesCollector = true, BaseAddress = new Uri("http://collector:8080") };
        using var collector = SealightsRoutes.FootprintsRequest(collectorOptions, _scope.Token, execution, "{}"u8.ToArray());

        Assert.Equal("exec-7", options.Metadata.ExecutionId);
        Assert.Contains("exec-7", server.Headers.GetValues(AgentMetadata.MetadataHeader).Single(), StringComparison.Ordinal);
        Assert.False(collector.Headers.Contains("x-sl-executionId"));
    }

    [Fact]
    public void A_route_without_an_execution_uses_the_set_test_stage_else_the_default()
    {
        var options = Options() with { ActiveExecutionRoute = "v4/{testStage}/{labId}" };

        Assert.Equal("https://acme.sealights.co/api/v4/Nightly/lab%2B1", SealightsRoutes.ActiveExecutionUri(options with { TestStage = "Nightly" }).AbsoluteUri);
        Assert.Equal("https://acme.sealights.co/api/v4/Functional%20Tests/lab%2B1", SealightsRoutes.ActiveExecutionUri(options).AbsoluteUri);
    }

    [Theory]
    [InlineData("{bsid}/fp", null)]
    [InlineData("{bsid", "has an unbalanced '{'")]
    [InlineData("}v6", "has an unbalanced '}'")]
    [InlineData("}{bsid}", "has an unbalanced '}'")]
    [InlineData("v6/{}", "uses an unknown placeholder {}")]
    [InlineData("v6/a b", "must be a plain path (no spaces, query or fragment)")]
    public void Route_templates_at_their_edges(string template, string? problem)
    {
        var found = SealightsRoutes.TemplateProblem(template);

        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.StartsWith(problem, found);
        }
    }

    [Theory]
    [InlineData("closed")]
    [InlineData("Deleted")]
    [InlineData("ENDED")]
    public void Every_ended_status_means_no_active_execution(string status)
    {
        Assert.Null(SealightsRoutes.ParseActiveExecution(Encoding.UTF8.GetBytes("{\"execution\":{\"executionId\":\"e-1\",\"status\":\"" + status + "\"}}")));
        Assert.NotNull(SealightsRoutes.ParseActiveExecution("""{"execution":{"executionId":"e-1","status":"in progress"}}"""u8));
    }

    [Fact]
    public void Names_learnt_again_replace_the_known_ones_and_a_missing_name_keeps_its_value()
    {
        var options = Options();
        options.Metadata.Learn("orders", "main", "41");

        options.Metadata.Learn("shop", null, "42");

        Assert.Equal(("shop", "main", "42"), (options.Metadata.AppName, options.Metadata.BranchName, options.Metadata.BuildName));
    }

    [Fact]
    public void The_interval_in_the_remote_configurations_log_text_has_at_most_three_decimals()
    {
        Assert.Equal("executionQueryIntervalSecs: 1.235", new RemoteConfiguration(ExecutionQueryInterval: TimeSpan.FromSeconds(1.23456)).Describe());
    }

    [Theory]
    // A framework entry, a frameworks list and a name of the wrong JSON kinds are skipped, not fatal.
    [InlineData("""{"runtimeOptions":{"framework":"Microsoft.NETCore.App","frameworks":[{"name":"Microsoft.NETCore.App","version":"9.0.4"}]}}""", "9.0.4")]
    [InlineData("""{"runtimeOptions":{"frameworks":{"name":"Microsoft.NETCore.App","version":"8.0.0"},"framework":{"name":"Microsoft.NETCore.App","version":"9.0.5"}}}""", "9.0.5")]
    [InlineData("""{"runtimeOptions":{"frameworks":[{"name":5,"version":"8.0.0"},{"name":"Microsoft.NETCore.App","version":"9.0.6"}]}}""", "9.0.6")]
    public void Framework_entries_of_the_wrong_kind_are_skipped(string json, string expected)
    {
        File.WriteAllText(Path.Combine(_scope.TaskRoot, "Fn.runtimeconfig.json"), json);

        Assert.Equal(expected, LambdaFacts.TargetFramework(_scope.TaskRoot));
    }

    [Fact]
    public void Only_runtimeconfig_files_are_read_for_the_framework()
    {
        // Sorted before the runtimeconfig: read first if every file were read.
        File.WriteAllText(Path.Combine(_scope.TaskRoot, "A.json"), """{"runtimeOptions":{"framework":{"name":"Microsoft.NETCore.App","version":"1.0.0"}}}""");
        File.WriteAllText(Path.Combine(_scope.TaskRoot, "Fn.runtimeconfig.json"), """{"runtimeOptions":{"framework":{"name":"Microsoft.NETCore.App","version":"10.0.1"}}}""");

        Assert.Equal("10.0.1", LambdaFacts.TargetFramework(_scope.TaskRoot));
    }

    [Fact]
    public void The_machine_facts_are_the_cpu_model_name_and_the_memory_in_gigabytes()
    {
        var facts = LambdaFacts.Read(_ => null, _scope.TaskRoot);

        // The first "model name" line of /proc/cpuinfo, its value trimmed (none on CPUs that have no such line).
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        Assert.Equal(line?.Split(':', 2)[1].Trim() is { Length: > 0 } model ? model : null, facts.Cpu);
        var bytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        Assert.True(bytes > 0);
        Assert.Equal((bytes / 1073741824.0).ToString("0.###", CultureInfo.InvariantCulture) + " Gb", facts.TotalMemory);
        Assert.Matches(@"^\d+(\.\d{1,3})? Gb$", facts.TotalMemory);
    }

    [Fact]
    public void A_token_server_ending_in_a_slash_gets_no_second_one()
    {
        _scope.UseServer("https://acme.sealights.co/api/");
        var options = Options() with { BuildSessionId = "b1" };

        using var session = SealightsRoutes.BuildSessionRequest(options, _scope.Token);
        using var events = SealightsRoutes.AgentEventRequest(options, _scope.Token, AgentEventType.Ping, "{}"u8.ToArray());

        Assert.Equal("https://acme.sealights.co/api/v2/agents/buildsession/b1/", session.RequestUri!.AbsoluteUri);
        Assert.Equal("https://acme.sealights.co/api/v3/agents/agent-events/", events.RequestUri!.AbsoluteUri);
    }
}
