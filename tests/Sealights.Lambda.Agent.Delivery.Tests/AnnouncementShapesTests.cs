using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// What the agent tells Sealights about itself, field by field, without a server: the agent
/// events' bodies (1001's facts, 1003's lab, 4006's empty data), the remote configuration's query
/// and log text, the identity headers and sl-metadata, collector footprints' agentConfig, and the
/// function facts read from Lambda's variables and the runtimeconfig. LifecycleShapesTests has the
/// first shapes; these pin the fields a wrong value of would mislabel the agent in Sealights.
/// </summary>
public sealed class AnnouncementShapesTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly DateTimeOffset At = new(2026, 12, 6, 18, 24, 18, 345, TimeSpan.Zero);

    private readonly DeliveryScope _scope = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    private DeliveryOptions Options(params (string Name, string Value)[] env) =>
        _scope.Options([("SL_LAB_ID", "lab-1"), .. env]) with { AgentId = "agent-9" };

    private static JsonObject Event(byte[] body, out JsonObject whole)
    {
        whole = JsonNode.Parse(Encoding.UTF8.GetString(body))!.AsObject();
        return Assert.Single(whole["events"]!.AsArray())!.AsObject();
    }

    [Theory]
    [InlineData(AgentEventType.Shutdown, 1002)]
    [InlineData(AgentEventType.ExecutionFound, 1006)]
    [InlineData(AgentEventType.NoExecution, 1007)]
    [InlineData(AgentEventType.FirstFootprints, 1010)]
    public void An_event_without_data_is_its_code_and_time_for_the_agent_and_build_session(AgentEventType type, int code)
    {
        var options = Options();

        var e = Event(AgentEvents.Body(type, At, options, options.Metadata), out var whole);

        Assert.Equal(["agentId", "events", "buildSessionId"], whole.Select(p => p.Key));
        Assert.Equal(options.AgentId, (string?)whole["agentId"]);
        Assert.Equal("bsid-1", (string?)whole["buildSessionId"]);
        Assert.Equal(["type", "utcTimestamp_ms", "difftime"], e.Select(p => p.Key));
        Assert.Equal(code, (int)e["type"]!);
        Assert.Equal(At.ToUnixTimeMilliseconds(), (long)e["utcTimestamp_ms"]!);
        Assert.Equal(0, (int)e["difftime"]!);
    }

    [Fact]
    public void A_ping_names_the_lab_and_4006_has_empty_data()
    {
        var options = Options();
        options.Metadata.Learn("orders", null, null);

        var ping = Event(AgentEvents.Body(AgentEventType.Ping, At, options, options.Metadata), out var whole);
        var notSubmitted = Event(AgentEvents.Body(AgentEventType.FootprintsNotSubmitted, At, options, options.Metadata), out _);

        Assert.Equal(1003, (int)ping["type"]!);
        Assert.Equal("""{"agentInfo":{"labId":"lab-1"}}""", ping["data"]!.ToJsonString());
        Assert.Equal(4006, (int)notSubmitted["type"]!);
        Assert.Equal("{}", notSubmitted["data"]!.ToJsonString());
        // The app's name once the build session named it.
        Assert.Equal(["agentId", "events", "appName", "buildSessionId"], whole.Select(p => p.Key));
        Assert.Equal("orders", (string?)whole["appName"]);
    }

    [Fact]
    public void The_start_event_describes_the_agent_the_machine_and_the_function()
    {
        var options = Options(("SL_TEST_STAGE", "Nightly"));
        var facts = new LambdaFacts("fn", "7", 512, "eu-west-1", "on-demand", "AWS_Lambda_dotnet10", "10.0.2", "sha256:abc", "Graviton", "1.5 Gb");

        var e = Event(AgentEvents.Body(AgentEventType.Started, At, options, options.Metadata, facts), out _);

        Assert.Equal(1001, (int)e["type"]!);
        var data = e["data"]!.AsObject();
        Assert.Equal(["agentInfo", "machineInfo", "techSpecificInfo", "ciInfo"], data.Select(p => p.Key));
        var agent = data["agentInfo"]!.AsObject();
        Assert.Equal(options.AgentId, (string?)agent["agentId"]);
        Assert.Equal("TestListener", (string?)agent["agentType"]);
        Assert.Equal(AgentMetadata.AgentVersion, (string?)agent["agentVersion"]);
        Assert.Equal("dotnet", (string?)agent["technology"]);
        Assert.Equal("[]", agent["tags"]!.ToJsonString());
        Assert.True((bool)agent["sendsPing"]!);
        Assert.Equal("bsid-1", (string?)agent["buildSessionId"]);
        Assert.Equal("lab-1", (string?)agent["labId"]);
        Assert.Equal("Nightly", (string?)agent["testStage"]);
        Assert.Equal(Environment.ProcessId, (int)agent["processId"]!);
        Assert.Equal(LambdaFacts.ArchitectureName(RuntimeInformation.ProcessArchitecture), (string?)agent["processArch"]);

        var machine = data["machineInfo"]!.AsObject();
        Assert.Equal(Environment.MachineName, (string?)machine["machineName"]);
        Assert.Equal("Graviton", (string?)machine["cpu"]);
        Assert.Equal("1.5 Gb", (string?)machine["totalMemory"]);
        Assert.Equal("linux", (string?)machine["os"]);
        Assert.Equal("Sun Dec 06 2026 18:24:18 GMT+0000 (Coordinated Universal Time)", (string?)machine["localDateTime"]);
        Assert.Equal(At.ToUnixTimeMilliseconds(), (long)machine["localDateTimeUnix_s"]!);
        Assert.Equal(RuntimeInformation.FrameworkDescription, (string?)machine["runtime"]);

        var lambda = data["techSpecificInfo"]!.AsObject();
        Assert.Equal("aws-lambda-extension", (string?)lambda["host"]);
        Assert.Equal(("fn", "7", 512, "eu-west-1", "on-demand", "AWS_Lambda_dotnet10", "10.0.2", "sha256:abc"),
            ((string?)lambda["functionName"], (string?)lambda["functionVersion"], (int)lambda["memorySizeMB"]!, (string?)lambda["region"],
             (string?)lambda["initializationType"], (string?)lambda["executionEnvironment"], (string?)lambda["dotnetVersion"], (string?)lambda["imageDigest"]));
        Assert.Equal(RuntimeInformation.FrameworkDescription + " NativeAOT", (string?)lambda["agentRuntime"]);
        Assert.Equal("{}", data["ciInfo"]!.ToJsonString());
    }

    [Fact]
    public void The_start_event_leaves_out_what_is_not_known()
    {
        var options = Options();

        var e = Event(AgentEvents.Body(AgentEventType.Started, At, options, options.Metadata), out _);

        Assert.Null(e["data"]!["agentInfo"]!["testStage"]);
        Assert.Equal(["machineName", "arch", "os", "localDateTime", "localDateTimeUnix_s", "runtime"], e["data"]!["machineInfo"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["host", "architecture", "agentRuntime"], e["data"]!["techSpecificInfo"]!.AsObject().Select(p => p.Key));
    }

    [Theory]
    [InlineData(Architecture.X64, "x64")]
    [InlineData(Architecture.Arm64, "arm64")]
    [InlineData(Architecture.Arm, "arm")]
    public void Architectures_are_named_as_Node_names_them(Architecture architecture, string name)
    {
        Assert.Equal(name, LambdaFacts.ArchitectureName(architecture));
    }

    [Theory]
    [InlineData("1769", 1769)]
    [InlineData("+128", null)]
    [InlineData(" 128", null)]
    [InlineData("", null)]
    public void The_memory_size_is_plain_digits(string text, int? expected)
    {
        var facts = LambdaFacts.Read(name => name == "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" ? text : null, _scope.TaskRoot);

        Assert.Equal(expected, facts.MemorySizeMb);
    }

    [Fact]
    public void The_function_facts_are_trimmed_and_blank_ones_are_unknown()
    {
        var variables = new Dictionary<string, string>
        {
            ["AWS_LAMBDA_FUNCTION_NAME"] = " fn ",
            ["AWS_LAMBDA_FUNCTION_VERSION"] = "  ",
            ["AWS_REGION"] = "us-east-1",
            ["AWS_LAMBDA_INITIALIZATION_TYPE"] = "provisioned-concurrency",
            ["AWS_EXECUTION_ENV"] = "AWS_Lambda_Image",
            ["SL_IMAGE_DIGEST"] = "sha256:0f",
        };

        var facts = LambdaFacts.Read(name => variables.GetValueOrDefault(name), _scope.TaskRoot);

        Assert.Equal(("fn", null, "us-east-1", "provisioned-concurrency", "AWS_Lambda_Image", "sha256:0f", null),
            (facts.FunctionName, facts.FunctionVersion, facts.Region, facts.InitializationType, facts.ExecutionEnvironment, facts.ImageDigest, facts.DotnetVersion));
        Assert.EndsWith(" Gb", facts.TotalMemory);
    }

    [Fact]
    public void The_framework_is_read_from_a_single_framework_entry_too()
    {
        File.WriteAllText(Path.Combine(_scope.TaskRoot, "Fn.runtimeconfig.json"),
            """
            {
              // a comment, as dotnet writes none but people do
              "runtimeOptions": { "tfm": "net8.0", "framework": { "name": "Microsoft.NETCore.App", "version": "8.0.11" }, },
            }
            """);

        Assert.Equal("8.0.11", LambdaFacts.TargetFramework(_scope.TaskRoot));
    }

    [Theory]
    [InlineData("""{"runtimeOptions":{"framework":{"name":"Microsoft.AspNetCore.App","version":"10.0.1"}}}""")]
    [InlineData("""{"runtimeOptions":{"framework":{"name":"Microsoft.NETCore.App","version":10}}}""")]
    [InlineData("""{"runtimeOptions":{"frameworks":[1,{"name":"Microsoft.NETCore.App"}]}}""")]
    [InlineData("""{"runtimeOptions":"net10.0"}""")]
    [InlineData("""{"other":{}}""")]
    [InlineData("""{"runtimeOptions":""")]
    public void A_runtimeconfig_that_names_no_NETCore_version_gives_none(string json)
    {
        File.WriteAllText(Path.Combine(_scope.TaskRoot, "Fn.runtimeconfig.json"), json);

        Assert.Null(LambdaFacts.TargetFramework(_scope.TaskRoot));
    }

    [Fact]
    public void The_first_runtimeconfig_that_names_the_framework_decides()
    {
        File.WriteAllText(Path.Combine(_scope.TaskRoot, "A.runtimeconfig.json"), """{"runtimeOptions":{"tfm":"net10.0"}}""");
        File.WriteAllText(Path.Combine(_scope.TaskRoot, "B.runtimeconfig.json"), """{"runtimeOptions":{"framework":{"name":"Microsoft.NETCore.App","version":"10.0.2"}}}""");
        File.WriteAllText(Path.Combine(_scope.TaskRoot, "C.runtimeconfig.json"), """{"runtimeOptions":{"framework":{"name":"Microsoft.NETCore.App","version":"9.0.1"}}}""");

        Assert.Equal("10.0.2", LambdaFacts.TargetFramework(_scope.TaskRoot));
        Assert.Null(LambdaFacts.TargetFramework(Path.Combine(_scope.TaskRoot, "missing")));
    }

    [Fact]
    public void The_remote_configuration_query_names_what_is_known_in_slnodejs_order_escaped()
    {
        var options = Options(("SL_TEST_STAGE", "Functional Tests"));
        var before = RemoteConfiguration.Query(options, options.Metadata);
        options.Metadata.Learn("orders & co", "main", "build 7");

        var query = RemoteConfiguration.Query(options, options.Metadata);

        Assert.Equal($"?agentType=TestListener&agentVersion={Uri.EscapeDataString(AgentMetadata.AgentVersion)}&agentId=agent-9&testStage=Functional%20Tests&labId=lab-1", before);
        Assert.Equal($"?agentType=TestListener&agentVersion={Uri.EscapeDataString(AgentMetadata.AgentVersion)}&agentId=agent-9&appName=orders%20%26%20co&branchName=main&buildName=build%207&testStage=Functional%20Tests&labId=lab-1", query);
        using var request = SealightsRoutes.RemoteConfigurationRequest(options, _scope.Token);
        Assert.Equal("/api/v3/config" + query, request.RequestUri!.PathAndQuery);
    }

    [Fact]
    public void The_remote_configurations_log_text_names_only_what_differs()
    {
        Assert.Equal("", RemoteConfiguration.Defaults.Describe());
        Assert.Equal("enabled: false", new RemoteConfiguration(Enabled: false).Describe());
        Assert.Equal("sendFootprints: false", new RemoteConfiguration(SendFootprints: false).Describe());
        Assert.Equal("sendEvents: false", new RemoteConfiguration(SendEvents: false).Describe());
        Assert.Equal("executionQueryIntervalSecs: 2.5", new RemoteConfiguration(ExecutionQueryInterval: TimeSpan.FromSeconds(2.5)).Describe());
        Assert.Equal("enabled: false, sendFootprints: false, sendEvents: false, executionQueryIntervalSecs: 30",
            new RemoteConfiguration(false, false, false, TimeSpan.FromSeconds(30)).Describe());
    }

    [Theory]
    [InlineData("""{"executionQueryIntervalSecs":0}""", null)]
    [InlineData("""{"executionQueryIntervalSecs":1}""", 1.0)]
    [InlineData("""{"executionQueryIntervalSecs":1.5}""", 1.5)]
    [InlineData("""{"executionQueryIntervalSecs":"7"}""", 7.0)]
    [InlineData("""{"executionQueryIntervalSecs":"seven"}""", null)]
    [InlineData("""{"executionQueryIntervalSecs":true}""", null)]
    [InlineData("""{"executionQueryIntervalSecs":1e300}""", null)]
    [InlineData("""{"executionQueryIntervalSecs":4e11}""", 4e11)]
    [InlineData("""{"executionQueryIntervalSecs":5e11}""", null)]
    public void The_execution_query_interval_is_taken_within_bounds(string json, double? seconds)
    {
        Assert.Equal(seconds, RemoteConfiguration.Parse(Encoding.UTF8.GetBytes(json))!.ExecutionQueryInterval?.TotalSeconds);
        Assert.Equal(TimeSpan.FromSeconds(1), RemoteConfiguration.MinimumExecutionQueryInterval);
    }

    [Theory]
    [InlineData("""{"enabled":"False","sendFootprints":"TRUE","sendEvents":0}""", false, true, true)]
    [InlineData("""{"enabled":true,"sendFootprints":null,"sendEvents":false}""", true, true, false)]
    public void Flags_are_booleans_or_their_text(string json, bool enabled, bool footprints, bool events)
    {
        var configuration = RemoteConfiguration.Parse(Encoding.UTF8.GetBytes(json))!;

        Assert.Equal((enabled, footprints, events), (configuration.Enabled, configuration.SendFootprints, configuration.SendEvents));
    }

    [Fact]
    public void Answers_that_are_not_UTF8_are_no_configuration_and_no_build_session()
    {
        byte[] body = [(byte)'{', (byte)'"', (byte)'a', (byte)'"', (byte)':', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}'];

        Assert.Null(RemoteConfiguration.Parse(body));
        Assert.Null(BuildSessionInfo.Parse(body));
    }

    [Fact]
    public void The_build_session_answer_names_all_three()
    {
        Assert.Equal(new BuildSessionInfo("b", "orders", "main", "42"),
            BuildSessionInfo.Parse("""{"buildSessionId":"b","appName":"orders","branchName":"main","buildName":"42"}"""u8));
        Assert.Equal(new BuildSessionInfo(null, null, null, null), BuildSessionInfo.Parse("{}"u8));
        Assert.Null(BuildSessionInfo.Parse("{"u8));
    }

    [Fact]
    public void Names_learnt_later_keep_what_is_known_and_renew_sl_metadata()
    {
        var options = Options();
        var metadata = options.Metadata;
        metadata.Learn("orders", "main", "42");
        var first = metadata.MetadataJson(options);

        metadata.Learn(null, "release", null);
        metadata.SawExecution(null);

        Assert.Equal(("orders", "release", "42", null), (metadata.AppName, metadata.BranchName, metadata.BuildName, metadata.ExecutionId));
        var json = JsonNode.Parse(metadata.MetadataJson(options))!.AsObject();
        Assert.Contains("\"branchName\":\"main\"", first, StringComparison.Ordinal);
        Assert.Equal("release", (string?)json["branchName"]);
        Assert.Equal(["labId", "appName", "branchName", "buildName", "agentId", "buildSessionId", "agentType", "agentTechnology", "agentVersion"], json.Select(p => p.Key));
        Assert.Equal(("lab-1", "agent-9", "bsid-1", "TestListener", "dotnet", AgentMetadata.AgentVersion),
            ((string?)json["labId"], (string?)json["agentId"], (string?)json["buildSessionId"], (string?)json["agentType"], (string?)json["agentTechnology"], (string?)json["agentVersion"]));
    }

    [Fact]
    public void The_last_execution_seen_is_named_until_another_is_seen()
    {
        var options = Options();
        var metadata = options.Metadata;

        metadata.SawExecution("e-1");
        var first = metadata.MetadataJson(options);
        metadata.SawExecution(null);
        Assert.Same(first, metadata.MetadataJson(options));
        metadata.SawExecution("e-2");

        Assert.Equal("e-1", (string?)JsonNode.Parse(first)!["executionId"]);
        Assert.Equal("e-2", (string?)JsonNode.Parse(metadata.MetadataJson(options))!["executionId"]);
        Assert.Equal("e-2", metadata.ExecutionId);
    }

    [Fact]
    public void sl_metadata_is_written_for_the_options_it_is_asked_for()
    {
        // Copies of the options (tests make them with `with`) share one metadata.
        var options = Options();
        var other = options with { LabId = "lab-2" };

        Assert.Equal("lab-1", (string?)JsonNode.Parse(options.Metadata.MetadataJson(options))!["labId"]);
        Assert.Equal("lab-2", (string?)JsonNode.Parse(options.Metadata.MetadataJson(other))!["labId"]);
        Assert.Equal("lab-1", (string?)JsonNode.Parse(options.Metadata.MetadataJson(options))!["labId"]);
    }

    [Theory]
    [InlineData("orders~v2", true)]
    [InlineData("a b", true)]
    [InlineData("tab\there", false)]
    [InlineData("del\u007f", false)]
    [InlineData("", false)]
    public void A_name_header_is_sent_only_when_a_header_can_carry_it(string branch, bool sent)
    {
        var options = Options();
        options.Metadata.Learn("orders", branch, "42");
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1/");

        options.Metadata.AddHeaders(request, options);

        Assert.Equal(sent, request.Headers.Contains("x-sl-branchName"));
        if (sent)
        {
            Assert.Equal(branch, request.Headers.GetValues("x-sl-branchName").Single());
        }
        Assert.Equal("orders", request.Headers.GetValues("x-sl-appName").Single());
        Assert.Equal("42", request.Headers.GetValues("x-sl-buildName").Single());
        Assert.Equal(options.Metadata.MetadataJson(options), request.Headers.GetValues("sl-metadata").Single());
    }

    [Fact]
    public void Collector_footprints_carry_the_agents_config_with_the_names_known_now()
    {
        var options = Options();
        options.Metadata.Learn("orders", "main", "42");

        var config = options.Metadata.ToAgentConfig(options);

        Assert.Equal(("agent-9", "orders", "42", "main", "bsid-1", "lab-1", AgentMetadata.AgentVersion, "TestListener"),
            (config.AgentId, config.AppName, config.Build, config.Branch, config.BuildSessionId, config.LabId, config.AgentVersion, config.AgentType));
    }

    [Fact]
    public void The_remote_execution_query_interval_overrides_the_refresh_while_it_is_positive()
    {
        var options = Options();
        var metadata = options.Metadata;

        Assert.Null(metadata.ExecutionQueryInterval);
        Assert.Equal(TimeSpan.FromSeconds(10), options.ExecutionRefreshInterval);
        metadata.ExecutionQueryInterval = TimeSpan.FromSeconds(30);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ExecutionRefreshInterval);
        metadata.ExecutionQueryInterval = TimeSpan.Zero;
        Assert.Null(metadata.ExecutionQueryInterval);
        metadata.ExecutionQueryInterval = TimeSpan.FromTicks(1);
        Assert.Equal(TimeSpan.FromTicks(1), metadata.ExecutionQueryInterval);
        metadata.ExecutionQueryInterval = TimeSpan.FromSeconds(-1);
        Assert.Null(metadata.ExecutionQueryInterval);
        metadata.ExecutionQueryInterval = null;
        Assert.Equal(TimeSpan.FromSeconds(10), options.ExecutionRefreshInterval);
    }

    [Fact]
    public void The_agent_version_has_no_source_revision()
    {
        Assert.DoesNotContain('+', AgentMetadata.AgentVersion);
        Assert.StartsWith("0.1.0", AgentMetadata.AgentVersion);
    }
}
