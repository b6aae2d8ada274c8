using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

public sealed class DeliveryOptionsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DeliveryScope _scope = new(output, server: "https://acme.sealights.co/api");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    private DeliveryOptions? Read(params (string Name, string Value)[] env)
    {
        var map = env.ToDictionary(v => v.Name, v => v.Value);
        return DeliveryOptions.TryCreate(name => map.GetValueOrDefault(name), _scope.TaskRoot, _scope.Token, _scope.Log.Add);
    }

    private void WriteConfigFile(string json) => File.WriteAllText(Path.Combine(_scope.TaskRoot, "sealights.json"), json);

    [Fact]
    public void A_build_session_id_and_a_token_with_a_server_are_enough()
    {
        var options = Read(("SL_BUILD_SESSION_ID", "bsid-1"));

        Assert.NotNull(options);
        Assert.Equal("bsid-1", options.BuildSessionId);
        Assert.Equal("bsid-1", options.LabId);
        Assert.Null(options.TestStage);
        Assert.Equal(new Uri("https://acme.sealights.co/api"), options.BaseAddress);
        Assert.False(options.UsesCollector);
        Assert.Null(options.Proxy);
        Assert.Equal(DeliveryOptions.DefaultSpoolDirectory, options.SpoolDirectory);
        Assert.Equal(TimeSpan.FromMilliseconds(300), options.FlushBudget);
        Assert.Equal(TimeSpan.FromSeconds(10), options.ExecutionRefreshInterval);
        Assert.True(Guid.TryParse(options.AgentId, out _));
        Assert.Empty(_scope.Log.Lines);
    }

    [Fact]
    public void A_collector_url_replaces_the_server()
    {
        _scope.UseServer(null);

        var options = Read(("SL_BUILD_SESSION_ID", "bsid-1"), ("SL_COLLECTOR_URL", "http://collector.internal:8080/sl"));

        Assert.NotNull(options);
        Assert.True(options.UsesCollector);
        Assert.Equal(new Uri("http://collector.internal:8080/sl"), options.BaseAddress);
    }

    [Fact]
    public void A_collector_url_overrides_the_tokens_server()
    {
        var options = Read(("SL_BUILD_SESSION_ID", "bsid-1"), ("SL_COLLECTOR_URL", "https://collector.example"));

        Assert.Equal(new Uri("https://collector.example"), options!.BaseAddress);
        Assert.True(options.UsesCollector);
    }

    [Theory]
    [InlineData("ftp://collector.example")]
    [InlineData("collector.example:8080")]
    [InlineData("https://user:pass@collector.example")]
    public void An_unusable_collector_url_turns_delivery_off(string url)
    {
        Assert.Null(Read(("SL_BUILD_SESSION_ID", "bsid-1"), ("SL_COLLECTOR_URL", url)));

        var line = Assert.Single(_scope.Log.Lines);
        Assert.Contains("SL_COLLECTOR_URL must be an absolute http:// or https:// URL", line);
        Assert.DoesNotContain("pass", line);
    }

    [Fact]
    public void The_build_session_id_can_come_from_a_file_relative_to_the_task_root()
    {
        File.WriteAllText(Path.Combine(_scope.TaskRoot, "buildSessionId.txt"), "bsid-from-file\n");

        var options = Read(("SL_BUILD_SESSION_ID_FILE", "buildSessionId.txt"));

        Assert.Equal("bsid-from-file", options!.BuildSessionId);
        Assert.Equal("bsid-from-file", options.LabId);
    }

    [Fact]
    public void A_missing_build_session_id_file_is_one_line_naming_the_path()
    {
        var path = Path.Combine(_scope.TaskRoot, "nope.txt");

        Assert.Null(Read(("SL_BUILD_SESSION_ID_FILE", path)));

        var line = Assert.Single(_scope.Log.Lines);
        Assert.Equal($"footprints delivery is off: SL_BUILD_SESSION_ID_FILE {path} cannot be read (FileNotFoundException)", line);
    }

    [Fact]
    public void An_empty_build_session_id_file_is_one_line()
    {
        File.WriteAllText(Path.Combine(_scope.TaskRoot, "empty.txt"), " \n");

        Assert.Null(Read(("SL_BUILD_SESSION_ID_FILE", "empty.txt")));

        Assert.Single(_scope.Log.Lines);
        Assert.Contains("is empty", _scope.Log.Lines[0]);
    }

    [Fact]
    public void No_build_session_id_anywhere_turns_delivery_off()
    {
        Assert.Null(Read());

        var line = Assert.Single(_scope.Log.Lines);
        Assert.StartsWith("footprints delivery is off: no build session id: set SL_BUILD_SESSION_ID or SL_BUILD_SESSION_ID_FILE", line);
    }

    [Fact]
    public void A_build_session_id_with_spaces_is_refused()
    {
        Assert.Null(Read(("SL_BUILD_SESSION_ID", "two words")));

        Assert.Equal("footprints delivery is off: the build session id must not contain spaces or control characters", Assert.Single(_scope.Log.Lines));
    }

    [Fact]
    public void The_config_file_under_the_task_root_is_read_and_the_environment_wins_over_it()
    {
        WriteConfigFile("""
            {
              // a build drops this file next to the function
              "SL_BUILD_SESSION_ID": "bsid-file",
              "SL_LAB_ID": "lab-file",
              "SL_TEST_STAGE": "Stage From File",
              "SL_FLUSH_BUDGET_MS": 150
            }
            """);

        var options = Read(("SL_LAB_ID", "lab-env"));

        Assert.NotNull(options);
        Assert.Equal("bsid-file", options.BuildSessionId);
        Assert.Equal("lab-env", options.LabId);
        Assert.Equal("Stage From File", options.TestStage);
        Assert.Equal(TimeSpan.FromMilliseconds(150), options.FlushBudget);
        Assert.Equal(Path.Combine(_scope.TaskRoot, "sealights.json"), options.ConfigFile);
        Assert.Empty(_scope.Log.Lines);
    }

    [Fact]
    public void A_build_session_id_file_in_the_environment_wins_over_a_build_session_id_in_the_config_file()
    {
        WriteConfigFile("""{"SL_BUILD_SESSION_ID": "bsid-file"}""");
        File.WriteAllText(Path.Combine(_scope.TaskRoot, "bsid.txt"), "bsid-env-file");

        var options = Read(("SL_BUILD_SESSION_ID_FILE", "bsid.txt"));

        Assert.Equal("bsid-env-file", options!.BuildSessionId);
    }

    [Fact]
    public void A_malformed_config_file_is_one_line_and_the_environment_still_counts()
    {
        WriteConfigFile("{ not json");

        var options = Read(("SL_BUILD_SESSION_ID", "bsid-1"));

        Assert.NotNull(options);
        Assert.Null(options.ConfigFile);
        Assert.Equal($"footprints delivery: {Path.Combine(_scope.TaskRoot, "sealights.json")} is not valid JSON; using the environment only", Assert.Single(_scope.Log.Lines));
    }

    [Fact]
    public void Unknown_keys_in_the_config_file_are_named_once_each()
    {
        WriteConfigFile("""{"SL_BUILD_SESSION_ID": "b", "SL_TOKEN": "secret-value", "SL_SPOOL_DIR": {"nested": true}}""");

        var options = Read();

        Assert.NotNull(options);
        Assert.Equal(2, _scope.Log.Lines.Count);
        Assert.Contains(_scope.Log.Lines, l => l.EndsWith("SL_TOKEN is not a delivery setting; ignored here", StringComparison.Ordinal));
        Assert.Contains(_scope.Log.Lines, l => l.EndsWith("SL_SPOOL_DIR must be a string or a number; ignored", StringComparison.Ordinal));
        Assert.DoesNotContain("secret-value", _scope.Log.Text);
    }

    [Fact]
    public void A_proxy_with_credentials_is_used_without_ever_printing_them()
    {
        var options = Read(("SL_BUILD_SESSION_ID", "bsid-1"), ("SL_PROXY", "http://user:s3cr%40t@proxy.internal:3128"));

        Assert.NotNull(options);
        Assert.Equal(new Uri("http://proxy.internal:3128/"), options.Proxy);
        Assert.Equal(("user", "s3cr@t"), options.ProxyCredentials);
        Assert.Contains("proxy http://proxy.internal:3128", options.Describe());
        Assert.DoesNotContain("s3cr", options.Describe());
    }

    [Fact]
    public void An_unusable_proxy_turns_delivery_off_without_echoing_the_value()
    {
        Assert.Null(Read(("SL_BUILD_SESSION_ID", "bsid-1"), ("SL_PROXY", "not a url with p4ssword")));

        var line = Assert.Single(_scope.Log.Lines);
        Assert.StartsWith("footprints delivery is off: SL_PROXY must be an absolute URL", line);
        Assert.DoesNotContain("p4ssword", line);
    }

    [Fact]
    public void Each_problem_is_its_own_line()
    {
        Assert.Null(Read(("SL_PROXY", "::"), ("SL_LAB_ID", "a lab"), ("SL_FOOTPRINTS_ROUTE", "v6/{bsid}/{nope}")));

        Assert.Equal(4, _scope.Log.Lines.Count);
        Assert.All(_scope.Log.Lines, l => Assert.StartsWith("footprints delivery is off: ", l));
        Assert.Contains(_scope.Log.Lines, l => l.Contains("no build session id"));
        Assert.Contains(_scope.Log.Lines, l => l.Contains("SL_PROXY"));
        Assert.Contains(_scope.Log.Lines, l => l.Contains("SL_LAB_ID must not contain spaces"));
        Assert.Contains(_scope.Log.Lines, l => l.Contains("SL_FOOTPRINTS_ROUTE uses an unknown placeholder {nope}"));
    }

    [Fact]
    public void Out_of_range_limits_fall_back_to_their_defaults_with_a_line_each()
    {
        var options = Read(("SL_BUILD_SESSION_ID", "b"), ("SL_SPOOL_MAX_BYTES", "lots"), ("SL_REQUEST_TIMEOUT_MS", "-5"), ("SL_SPOOL_MAX_FILES", "20"));

        Assert.NotNull(options);
        Assert.Equal(16L * 1024 * 1024, options.SpoolMaxBytes);
        Assert.Equal(TimeSpan.FromSeconds(5), options.RequestTimeout);
        Assert.Equal(20, options.SpoolMaxFiles);
        Assert.Equal(
            ["footprints delivery: SL_SPOOL_MAX_BYTES=lots is not a whole number from 4096 to 1099511627776; using 16777216",
             "footprints delivery: SL_REQUEST_TIMEOUT_MS=-5 is not a whole number from 10 to 600000; using 5000"],
            _scope.Log.Lines);
    }

    [Fact]
    public void Every_documented_setting_is_read()
    {
        var env = new (string, string)[]
        {
            ("SL_BUILD_SESSION_ID", "b"), ("SL_LAB_ID", "lab"), ("SL_TEST_STAGE", "Smoke Tests"), ("SL_EXECUTION_ID", "exec-9"),
            ("SL_NO_EXECUTION_HOLD_SECONDS", "0"), ("SL_SPOOL_DIR", "/tmp/elsewhere"), ("SL_SPOOL_MAX_BYTES", "65536"),
            ("SL_SPOOL_MAX_FILES", "7"), ("SL_REQUEST_TIMEOUT_MS", "1500"), ("SL_FLUSH_BUDGET_MS", "0"), ("SL_RETRY_MIN_MS", "100"),
            ("SL_RETRY_MAX_MS", "900"), ("SL_FOOTPRINTS_ROUTE", "v7/{labId}/fp"), ("SL_COLLECTOR_FOOTPRINTS_ROUTE", "c/{bsid}"),
            ("SL_EXECUTION_ROUTE", "exec/{labId}"), ("SL_FLUSH_INTERVAL_SECONDS", "0"), ("SL_TELEMETRY_API", "false"),
        };

        var options = Read(env)!;

        Assert.Equal(("lab", "Smoke Tests", "exec-9"), (options.LabId, options.TestStage, options.FixedExecutionId));
        Assert.Equal(TimeSpan.Zero, options.NoExecutionHold);
        Assert.Equal(("/tmp/elsewhere", 65536L, 7), (options.SpoolDirectory, options.SpoolMaxBytes, options.SpoolMaxFiles));
        Assert.Equal((TimeSpan.FromMilliseconds(1500), TimeSpan.Zero), (options.RequestTimeout, options.FlushBudget));
        Assert.Equal((TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(900)), (options.RetryMinDelay, options.RetryMaxDelay));
        Assert.Equal(("v7/{labId}/fp", "c/{bsid}", "exec/{labId}"), (options.FootprintsRoute, options.CollectorFootprintsRoute, options.ActiveExecutionRoute));
        Assert.Equal((TimeSpan.Zero, false), (options.FlushInterval, options.UseTelemetryApi));
        Assert.Empty(_scope.Log.Lines);
        // The README lists exactly these (plus SL_CONFIG_FILE, which only the environment can set).
        Assert.Equal(DeliveryOptions.Settings.Order(), env.Select(e => e.Item1).Append("SL_BUILD_SESSION_ID_FILE").Append("SL_COLLECTOR_URL").Append("SL_PROXY").Order());
    }
}
