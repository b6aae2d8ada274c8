using System.Text;
using System.Text.Json.Nodes;
using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>The lifecycle calls' wire shapes on their own: remote configuration, build session answer, sl-metadata, 1001's facts.</summary>
public sealed class LifecycleShapesTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DeliveryScope _scope = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    [Theory]
    [InlineData("""{}""", true, true, true, null)]
    [InlineData("""{"enabled":false}""", false, true, true, null)]
    [InlineData("""{"enabled":"false","sendFootprints":false,"sendEvents":"true"}""", false, false, true, null)]
    [InlineData("""{"executionQueryIntervalSecs":30,"httpMaxAttempts":6}""", true, true, true, 30.0)]
    [InlineData("""{"executionQueryIntervalSecs":"0.2"}""", true, true, true, 1.0)]
    [InlineData("""{"executionQueryIntervalSecs":-5,"enabled":"maybe"}""", true, true, true, null)]
    public void The_remote_configuration_keys_that_mean_something_here_are_read(string json, bool enabled, bool footprints, bool events, double? intervalSeconds)
    {
        var configuration = RemoteConfiguration.Parse(Encoding.UTF8.GetBytes(json))!;

        Assert.Equal((enabled, footprints, events), (configuration.Enabled, configuration.SendFootprints, configuration.SendEvents));
        Assert.Equal(intervalSeconds, configuration.ExecutionQueryInterval?.TotalSeconds);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    [InlineData("not json")]
    public void An_answer_that_is_not_an_object_is_no_configuration_and_no_build_session(string json)
    {
        Assert.Null(RemoteConfiguration.Parse(Encoding.UTF8.GetBytes(json)));
        Assert.Null(BuildSessionInfo.Parse(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void The_build_session_answer_gives_the_names_and_leaves_out_what_is_not_a_string()
    {
        var session = BuildSessionInfo.Parse("""{"buildSessionId":"b","appName":"orders","branchName":7,"buildName":" ","extra":{}}"""u8)!;

        Assert.Equal(new BuildSessionInfo("b", "orders", null, null), session);
    }

    [Fact]
    public void sl_metadata_names_what_is_known_in_slnodejs_order_and_escapes_non_ASCII()
    {
        var options = _scope.Options(("SL_LAB_ID", "lab-1"));
        var metadata = options.Metadata;
        var before = metadata.MetadataJson(options);
        metadata.Learn("Bestellungen-ü", "main", null);
        metadata.SawExecution("exec-1");

        var json = metadata.MetadataJson(options);

        Assert.DoesNotContain("appName", before);
        Assert.True(json.All(c => c < 128), json);
        var parsed = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(["labId", "appName", "branchName", "agentId", "buildSessionId", "agentType", "agentTechnology", "agentVersion", "executionId"], parsed.Select(p => p.Key));
        Assert.Equal("Bestellungen-ü", (string?)parsed["appName"]);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1/");
        metadata.AddHeaders(request, options);
        // A header cannot carry the non-ASCII name: left out, sl-metadata has it escaped.
        Assert.False(request.Headers.Contains("x-sl-appName"));
        Assert.Equal("main", request.Headers.GetValues("x-sl-branchName").Single());
        Assert.False(request.Headers.Contains("x-sl-buildName"));
    }

    [Fact]
    public void The_function_facts_come_from_named_variables_and_its_runtimeconfig_never_from_a_dump()
    {
        File.WriteAllText(Path.Combine(_scope.TaskRoot, "Fn.runtimeconfig.json"),
            """{"runtimeOptions":{"tfm":"net10.0","frameworks":[{"name":"Microsoft.AspNetCore.App","version":"10.0.1"},{"name":"Microsoft.NETCore.App","version":"10.0.2"}]}}""");
        var variables = new Dictionary<string, string>
        {
            ["AWS_LAMBDA_FUNCTION_NAME"] = "fn",
            ["AWS_LAMBDA_FUNCTION_VERSION"] = "3",
            ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "1769",
            ["AWS_REGION"] = "eu-central-1",
            ["SL_TOKEN"] = _scope.RawToken,
            ["AWS_SECRET_ACCESS_KEY"] = "secret-value",
        };
        var facts = LambdaFacts.Read(name => variables.GetValueOrDefault(name), _scope.TaskRoot);
        var options = _scope.Options();

        var body = Encoding.UTF8.GetString(AgentEvents.Body(AgentEventType.Started, DateTimeOffset.UtcNow, options, options.Metadata, facts));

        var lambda = JsonNode.Parse(body)!["events"]![0]!["data"]!["techSpecificInfo"]!;
        Assert.Equal("fn", (string?)lambda["functionName"]);
        Assert.Equal("3", (string?)lambda["functionVersion"]);
        Assert.Equal(1769, (int)lambda["memorySizeMB"]!);
        Assert.Equal("eu-central-1", (string?)lambda["region"]);
        Assert.Equal("10.0.2", (string?)lambda["dotnetVersion"]);
        Assert.Null(lambda["imageDigest"]);
        Assert.DoesNotContain(_scope.RawToken, body, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-value", body, StringComparison.Ordinal);
    }
}
