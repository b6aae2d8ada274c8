using System.Net.Sockets;
using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// The settings' edges that DeliveryOptionsTests leaves open (found by the mutation run of
/// DeliveryOptions.cs): the limits nobody sets, the 256-character bounds, each proxy scheme, an
/// explicit SL_CONFIG_FILE, the config file's own problems, and the destination line the agent
/// logs at start.
/// </summary>
public sealed class DeliveryOptionsEdgeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DeliveryScope _scope = new(output, server: "https://acme.sealights.co/api");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    private string ConfigPath => Path.Combine(_scope.TaskRoot, "sealights.json");

    private DeliveryOptions? Read(params (string Name, string Value)[] env)
    {
        var map = env.ToDictionary(v => v.Name, v => v.Value);
        return DeliveryOptions.TryCreate(name => map.GetValueOrDefault(name), _scope.TaskRoot, _scope.Token, _scope.Log.Add);
    }

    [Fact]
    public void The_limits_without_a_setting_are_the_documented_ones()
    {
        var options = Read(("SL_BUILD_SESSION_ID", "b"))!;

        Assert.Equal(4L * 1024 * 1024, options.MemoryMaxBytes);
        Assert.Equal(1024L * 1024, options.MaxRequestBytes);
        Assert.Equal(50, options.MaxBatchesPerRequest);
        Assert.True(options.UseTelemetryApi);
        Assert.Null(options.ConfigFile);
    }

    [Fact]
    public void The_start_line_names_the_server_the_ids_and_where_the_stage_comes_from()
    {
        var options = Read(("SL_BUILD_SESSION_ID", "b"), ("SL_LAB_ID", "lab-1"))!;

        Assert.Equal("server https://acme.sealights.co/api, bsid b, lab lab-1, test stage (from the active execution, else Functional Tests)", options.Describe());
    }

    [Fact]
    public void The_start_line_names_a_collector_a_set_stage_a_fixed_execution_and_the_proxy_without_credentials()
    {
        var options = Read(
            ("SL_BUILD_SESSION_ID", "b"), ("SL_COLLECTOR_URL", "http://collector:8080/"), ("SL_TEST_STAGE", "Nightly"),
            ("SL_EXECUTION_ID", "exec-7"), ("SL_PROXY", "socks5://user:pw@proxy.internal:1080"))!;

        Assert.Equal("collector http://collector:8080/, bsid b, lab b, test stage Nightly, execution exec-7, proxy socks5://proxy.internal:1080", options.Describe());
    }

    [Theory]
    [InlineData("https")]
    [InlineData("socks4")]
    [InlineData("socks4a")]
    [InlineData("socks5")]
    [InlineData("http")]
    public void Each_proxy_scheme_the_handler_knows_is_taken(string scheme)
    {
        var options = Read(("SL_BUILD_SESSION_ID", "b"), ("SL_PROXY", $"{scheme}://proxy.internal:3128"));

        Assert.Equal(new Uri($"{scheme}://proxy.internal:3128/"), options!.Proxy);
        Assert.Null(options.ProxyCredentials);
        Assert.Empty(_scope.Log.Lines);
    }

    [Theory]
    [InlineData("socks5:///proxy")]
    [InlineData("ftp://proxy.internal:21")]
    public void A_proxy_without_a_host_or_with_another_scheme_is_refused(string proxy)
    {
        Assert.Null(Read(("SL_BUILD_SESSION_ID", "b"), ("SL_PROXY", proxy)));

        Assert.Equal("footprints delivery is off: SL_PROXY must be an absolute URL such as http://proxy.example:3128 (schemes http, https, socks4, socks4a, socks5)", Assert.Single(_scope.Log.Lines));
    }

    [Fact]
    public void A_proxy_user_without_a_password_has_an_empty_password()
    {
        var options = Read(("SL_BUILD_SESSION_ID", "b"), ("SL_PROXY", "http://svc%2Dagent@proxy.internal:3128"));

        Assert.Equal(("svc-agent", ""), options!.ProxyCredentials);
    }

    [Fact]
    public void Ids_of_256_characters_are_taken_and_of_257_refused_with_the_reason()
    {
        var id256 = new string('a', 256);

        Assert.Equal(id256, Read(("SL_BUILD_SESSION_ID", id256), ("SL_LAB_ID", id256))!.LabId);
        Assert.Empty(_scope.Log.Lines);
        Assert.Null(Read(("SL_BUILD_SESSION_ID", id256 + "a")));
        Assert.Equal("footprints delivery is off: the build session id is longer than 256 characters", Assert.Single(_scope.Log.Lines));
    }

    [Theory]
    [InlineData(256, "", true)]
    [InlineData(257, "", false)]
    [InlineData(3, "\u0001", false)]
    [InlineData(3, "\u0085x", false)]
    [InlineData(3, " x", true)]
    public void A_test_stage_is_at_most_256_characters_without_control_characters(int length, string extra, bool taken)
    {
        var stage = new string('s', length) + extra;

        var options = Read(("SL_BUILD_SESSION_ID", "b"), ("SL_TEST_STAGE", stage));

        Assert.Equal(taken, options is not null);
        if (!taken)
        {
            Assert.Equal("footprints delivery is off: SL_TEST_STAGE must be at most 256 characters without control characters", Assert.Single(_scope.Log.Lines));
        }
    }

    [Fact]
    public void The_environments_build_session_id_wins_over_the_config_files()
    {
        File.WriteAllText(ConfigPath, """{"SL_BUILD_SESSION_ID": "bsid-file"}""");

        Assert.Equal("bsid-env", Read(("SL_BUILD_SESSION_ID", "bsid-env"))!.BuildSessionId);
    }

    [Fact]
    public void SL_CONFIG_FILE_names_the_file_relative_to_the_task_root_or_absolute()
    {
        Directory.CreateDirectory(Path.Combine(_scope.TaskRoot, "conf"));
        var relative = Path.Combine(_scope.TaskRoot, "conf", "sl.json");
        File.WriteAllText(relative, """{"SL_BUILD_SESSION_ID": "bsid-relative"}""");
        var absolute = Path.Combine(_scope.Root, "elsewhere.json");
        File.WriteAllText(absolute, """{"SL_BUILD_SESSION_ID": "bsid-absolute"}""");

        var fromRelative = Read(("SL_CONFIG_FILE", "conf/sl.json"))!;
        var fromAbsolute = Read(("SL_CONFIG_FILE", absolute))!;

        Assert.Equal(("bsid-relative", relative), (fromRelative.BuildSessionId, fromRelative.ConfigFile));
        Assert.Equal(("bsid-absolute", absolute), (fromAbsolute.BuildSessionId, fromAbsolute.ConfigFile));
    }

    [Fact]
    public void With_a_config_file_a_bad_value_is_said_to_come_from_either_place()
    {
        File.WriteAllText(ConfigPath, """{"SL_BUILD_SESSION_ID": "b"}""");

        Read(("SL_SPOOL_MAX_FILES", "many"));

        Assert.Equal($"footprints delivery: SL_SPOOL_MAX_FILES (environment or {ConfigPath})=many is not a whole number from 1 to 1000000; using 1000", Assert.Single(_scope.Log.Lines));
    }

    [Fact]
    public void A_relative_spool_folder_is_refused_for_the_default_with_a_line()
    {
        var options = Read(("SL_BUILD_SESSION_ID", "b"), ("SL_SPOOL_DIR", "spool"));

        Assert.Equal(DeliveryOptions.DefaultSpoolDirectory, options!.SpoolDirectory);
        Assert.Equal($"footprints delivery: SL_SPOOL_DIR=spool is not an absolute path; using {DeliveryOptions.DefaultSpoolDirectory}", Assert.Single(_scope.Log.Lines));
    }

    [Theory]
    [InlineData("[\"SL_BUILD_SESSION_ID\"]", "is not a JSON object of settings; using the environment only")]
    [InlineData("\"b\"", "is not a JSON object of settings; using the environment only")]
    public void A_config_file_that_is_not_an_object_is_one_line(string json, string problem)
    {
        File.WriteAllText(ConfigPath, json);

        var options = Read(("SL_BUILD_SESSION_ID", "b"));

        Assert.Null(options!.ConfigFile);
        Assert.Equal($"footprints delivery: {ConfigPath} {problem}", Assert.Single(_scope.Log.Lines));
    }

    [Fact]
    public void A_config_file_that_is_not_UTF8_is_one_line()
    {
        File.WriteAllBytes(ConfigPath, [(byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}']);

        Read(("SL_BUILD_SESSION_ID", "b"));

        Assert.Equal($"footprints delivery: {ConfigPath} is not UTF-8 text; using the environment only", Assert.Single(_scope.Log.Lines));
    }

    [Fact]
    public void A_config_file_may_have_comments_and_trailing_commas()
    {
        File.WriteAllText(ConfigPath, """
            {
              // written by hand
              "SL_BUILD_SESSION_ID": "b",
              "SL_LAB_ID": "lab-9",
            }
            """);

        Assert.Equal("lab-9", Read()!.LabId);
        Assert.Empty(_scope.Log.Lines);
    }

    [Fact]
    public void An_unknown_key_is_one_line_whatever_its_value()
    {
        File.WriteAllText(ConfigPath, """{"SL_BUILD_SESSION_ID": "b", "SL_OTHER": {"nested": [1]}}""");

        Assert.NotNull(Read());

        Assert.Equal($"footprints delivery: {ConfigPath}: SL_OTHER is not a delivery setting; ignored here", Assert.Single(_scope.Log.Lines));
    }

    [Fact]
    public void A_fixed_execution_id_with_a_space_turns_delivery_off_with_the_reason()
    {
        Assert.Null(Read(("SL_BUILD_SESSION_ID", "b"), ("SL_EXECUTION_ID", "exec 7")));

        Assert.Equal("footprints delivery is off: SL_EXECUTION_ID must not contain spaces or control characters", Assert.Single(_scope.Log.Lines));
    }

    [Fact]
    public void The_remote_configurations_execution_query_interval_replaces_the_default()
    {
        var options = Read(("SL_BUILD_SESSION_ID", "b"))!;
        var before = options.ExecutionRefreshInterval;

        options.Metadata.ExecutionQueryInterval = TimeSpan.FromSeconds(45);

        Assert.Equal(TimeSpan.FromSeconds(10), before);
        Assert.Equal(TimeSpan.FromSeconds(45), options.ExecutionRefreshInterval);
    }

    [Fact]
    public void A_config_file_that_exists_but_cannot_be_read_is_one_line()
    {
        // A Unix socket: it exists, but opening it to read fails.
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(ConfigPath));

        Assert.Equal("b", Read(("SL_BUILD_SESSION_ID", "b"))!.BuildSessionId);

        Assert.Equal($"footprints delivery: {ConfigPath} cannot be read (IOException); using the environment only", Assert.Single(_scope.Log.Lines));
    }
}
