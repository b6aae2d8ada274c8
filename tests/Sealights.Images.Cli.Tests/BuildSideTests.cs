using System.Text.Json.Nodes;
using Sealights.Coverage.BuildMaps;
using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.Cli.Tests;

/// <summary>The sample function published once for the upload tests.</summary>
public sealed class PublishedSample : IAsyncLifetime
{
    public string Directory { get; } = Path.Combine(RepositoryPaths.Artifacts, "cli-tests", "build-side-sample");

    public async Task InitializeAsync() =>
        (await ProcessRunner.RunAsync(
            "dotnet", ["publish", RepositoryPaths.Combine("samples", "SampleFunction"), "-c", "Release", "-f", "net10.0", "-o", Directory, "--nologo"],
            TimeSpan.FromMinutes(5))).EnsureSuccess("dotnet publish SampleFunction");

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>
/// <c>sl-images config</c> and <c>sl-images scan --upload</c> as real processes against the
/// stand-in backend (tests/Sealights.TestBackend), a real process on loopback recording every request.
/// </summary>
public sealed class BuildSideTests(PublishedSample sample, ITestOutputHelper output) : IClassFixture<PublishedSample>, IAsyncLifetime
{
    private const string MaskedBearer = "Bearer <jwt claims: subject,x-sl-role,x-sl-server>";
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "sl-images.dll");

    private readonly string _directory = System.IO.Directory.CreateTempSubdirectory("sl-build-side-").FullName;
    private readonly int _port = FreePorts.Next();
    private TestBackendProcess _backend = null!;

    private string Token => field ??= SealightsTokens.Create($"http://127.0.0.1:{_port}/api");

    private string TokenFile => field ??= Write("token.txt", Token);

    public async Task InitializeAsync() =>
        _backend = await TestBackendProcess.StartAsync(_directory, _port, output: output.WriteLine, recordAll: true);

    public async Task DisposeAsync()
    {
        await _backend.DisposeAsync();
        System.IO.Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Config_creates_a_build_session_with_the_request_slnodejs_makes_and_writes_the_bsid()
    {
        var bsidFile = Path.Combine(_directory, "out", "bsid");

        var result = await CliAsync("config", "--token-file", TokenFile, "--app", "orders", "--branch", "main", "--build", "42", "--bsid-file", bsidFile);

        Assert.Equal(0, result.ExitCode);
        var bsid = File.ReadAllText(bsidFile);
        Assert.Matches("^[0-9a-f-]{36}$", bsid);
        Assert.Equal(bsid, result.StdOut.Trim());
        var request = Assert.Single(_backend.AllRequests());
        Assert.Equal("POST", (string?)request["method"]);
        Assert.Equal("/api/v2/agents/buildsession/", (string?)request["path"]);
        Assert.Equal(200, (int?)request["status"]);
        Assert.Equal("gzip+json", (string?)request["bodyKind"]);
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["appName"] = "orders", ["branchName"] = "main", ["buildName"] = "42" }, request["body"]), request["body"]!.ToJsonString());
        var headers = request["headers"]!.AsObject();
        Assert.Equal(MaskedBearer, (string?)headers["authorization"]);
        Assert.Equal("gzip", (string?)headers["content-encoding"]);
        Assert.Equal("application/json", (string?)headers["content-type"]);
        Assert.Equal("null", (string?)headers["x-sl-bsid"]);
        Assert.Equal("orders", (string?)headers["x-sl-appname"]);
        Assert.Equal("main", (string?)headers["x-sl-branchname"]);
        Assert.Equal("42", (string?)headers["x-sl-buildname"]);
        var metadata = JsonNode.Parse((string)headers["sl-metadata"]!)!.AsObject();
        Assert.Equal((string?)headers["x-sl-agentid"], (string?)metadata["agentId"]);
        Assert.Equal(["appName", "branchName", "buildName", "agentId", "buildSessionId", "agentType", "agentTechnology", "agentVersion"], metadata.Select(p => p.Key));
        Assert.Null(metadata["buildSessionId"]);
        Assert.DoesNotContain(Token, result.Output);
    }

    [Fact]
    public async Task Config_json_prints_an_object_and_labels_travel_as_additional_parameters()
    {
        var result = await CliAsync(
            new Dictionary<string, string> { ["SL_TOKEN"] = Token },
            "config", "--app", "orders", "--branch", "release/2", "--build", "7", "--label", "team=payments", "--label", "ci=run-9", "--json");

        Assert.Equal(0, result.ExitCode);
        var printed = JsonNode.Parse(result.StdOut)!.AsObject();
        var bsid = (string)printed["buildSessionId"]!;
        Assert.Equal("release/2", (string?)printed["branchName"]);
        var body = Assert.Single(_backend.AllRequests())["body"]!;
        Assert.Equal("payments", (string?)body["additionalParams"]!["team"]);
        Assert.Equal("run-9", (string?)body["additionalParams"]!["ci"]);
        // The backend now knows the session under those names.
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        var session = JsonNode.Parse(await http.GetStringAsync($"{_backend.Server}/v2/agents/buildsession/{bsid}/"))!;
        Assert.Equal("orders", (string?)session["appName"]);
        Assert.Equal("7", (string?)session["buildName"]);
        Assert.DoesNotContain(Token, result.Output);
    }

    public static TheoryData<string, string> RefusedTokens => new()
    {
        { "no role", "the token has no 'x-sl-role' claim" },
        { "role user", "the token's 'x-sl-role' claim is not 'agent'" },
        { "no subject", "the token has no 'subject' claim" },
        { "no server", "the token has no 'x-sl-server' claim" },
        { "not a jwt", "is not a JWT" },
    };

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async Task A_token_slnodejs_refuses_is_one_clear_line_and_no_request(string kind, string reason)
    {
        var claims = SealightsTokens.AgentClaims($"http://127.0.0.1:{_port}/api");
        switch (kind)
        {
            case "no role": claims.Remove("x-sl-role"); break;
            case "role user": claims["x-sl-role"] = "user"; break;
            case "no subject": claims.Remove("subject"); break;
            case "no server": claims.Remove("x-sl-server"); break;
        }
        var token = kind == "not a jwt" ? "sl-" + Guid.NewGuid().ToString("N") : SealightsTokens.Create(claims);
        var tokenFile = Write("bad-token.txt", token);
        var bsidFile = Path.Combine(_directory, "bsid");

        var config = await CliAsync("config", "--token-file", tokenFile, "--app", "a", "--branch", "b", "--build", "1", "--bsid-file", bsidFile);
        var scan = await CliAsync("scan", sample.Directory, "--upload", "--bsid", "some-bsid", "--token-file", tokenFile);

        foreach (var result in new[] { config, scan })
        {
            Assert.Equal(2, result.ExitCode);
            Assert.Equal("", result.StdOut);
            var line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(reason, line);
            Assert.Contains("is refused", line);
            Assert.DoesNotContain(token, result.Output);
        }
        Assert.False(File.Exists(bsidFile));
        Assert.Empty(_backend.AllRequests());
    }

    [Fact]
    public async Task Config_without_a_build_name_is_bad_input_and_sends_nothing()
    {
        var result = await CliAsync("config", "--token-file", TokenFile, "--app", "orders", "--branch", "main");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Option '--build' is required.", result.StdErr);
        Assert.Empty(_backend.AllRequests());
    }

    [Fact]
    public async Task An_unreachable_backend_is_one_actionable_error()
    {
        var closed = FreePorts.Next();
        var tokenFile = Write("closed-token.txt", SealightsTokens.Create($"http://127.0.0.1:{closed}/api"));

        var result = await CliAsync("config", "--token-file", tokenFile, "--app", "a", "--branch", "b", "--build", "1");

        Assert.Equal(3, result.ExitCode);
        var line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("sl-images config: no build session created: cannot reach the Sealights backend http://127.0.0.1:", line);
    }

    [Fact]
    public async Task Scan_upload_registers_the_agents_ids_checks_before_and_after_and_refuses_a_second_upload()
    {
        var bsidFile = Path.Combine(_directory, "bsid");
        (await CliAsync("config", "--token-file", TokenFile, "--app", "orders", "--branch", "main", "--build", "43", "--bsid-file", bsidFile)).EnsureSuccess("sl-images config");
        var bsid = File.ReadAllText(bsidFile);
        var localMap = Path.Combine(_directory, "buildmap.json");
        var settings = Write("sealights.json", """{ "SL_TEST_STAGE": "Smoke" }""");

        var result = await CliAsync("scan", sample.Directory, "--upload", "--bsid-file", bsidFile, "--token-file", TokenFile, "--output", localMap, "--settings-file", settings);

        output.WriteLine(result.Output);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"build map uploaded for build session {bsid} (orders / main / 43)", result.StdErr);
        // As slnodejs scan: validate the bsid, check nothing was submitted, upload, check it is.
        var requests = _backend.AllRequests().Skip(1).ToList();
        Assert.Equal(
            ["buildsession-get", "buildmapping-submitted", "buildmapping", "buildmapping-submitted"],
            requests.Select(r => (string?)r["route"]));
        Assert.All(requests, r => Assert.Equal(200, (int?)r["status"]));
        Assert.Equal($"/api/v2/agents/buildsession/{bsid}/", (string?)requests[0]["path"]);
        Assert.Equal($"/api/v5/agents/buildmapping/build-sessions/{bsid}/submitted/", (string?)requests[1]["path"]);
        Assert.Equal("/api/v4/agents/buildmapping/", (string?)requests[2]["path"]);
        Assert.All(requests, r => Assert.Equal(MaskedBearer, (string?)r["headers"]!["authorization"]));
        Assert.All(requests.Where(r => (string?)r["method"] == "GET"), r => Assert.Equal("application/json", (string?)r["headers"]!["accept"]));
        // The bsid's validation knows no names yet: agent id and metadata only, as slnodejs sends it.
        Assert.Null(requests[0]["headers"]!["x-sl-bsid"]);
        Assert.Equal(["agentId", "agentType", "agentTechnology", "agentVersion"], JsonNode.Parse((string)requests[0]["headers"]!["sl-metadata"]!)!.AsObject().Select(p => p.Key));

        var upload = (await _backend.BuildMapAsync(bsid))!;
        var headers = upload["headers"]!.AsObject();
        Assert.Equal("gzip", (string?)headers["content-encoding"]);
        Assert.Equal("application/json", (string?)headers["content-type"]);
        Assert.Equal(bsid, (string?)headers["x-sl-bsid"]);
        Assert.Equal("43", (string?)headers["x-sl-buildname"]);
        Assert.Equal("BuildScanner", (string?)JsonNode.Parse((string)headers["sl-metadata"]!)!["agentType"]);
        var map = upload["buildMap"]!.AsObject();
        Assert.Equal(["meta", "version", "files", "dependencies", "includedFiles", "counters"], map.Select(p => p.Key));
        Assert.Equal("2.0", (string?)map["version"]);
        var meta = map["meta"]!;
        Assert.Equal(bsid, (string?)meta["buildSessionId"]);
        Assert.Equal("orders", (string?)meta["appName"]);
        Assert.Equal("main", (string?)meta["branch"]);
        Assert.Equal("43", (string?)meta["build"]);
        Assert.Equal("customer", (string?)meta["customerId"]);
        Assert.Null(meta["configurationData"]);
        Assert.DoesNotContain(Token, map.ToJsonString());

        // Exactly the ids of the local build map (the agent's ids), each under its PDB document.
        BuildMap expected;
        using (var stream = File.OpenRead(localMap))
        {
            expected = BuildMapJson.Read(stream);
        }
        var expectedMethods = expected.Assemblies.SelectMany(a => a.Methods).ToList();
        var uploaded = map["files"]!.AsArray().SelectMany(f => f!["methods"]!.AsArray().Select(m => (File: (string)f["logicalPath"]!, Method: m!))).ToList();
        Assert.Equal(expectedMethods.Select(m => m.Id).Order(StringComparer.Ordinal), uploaded.Select(u => (string)u.Method["uniqueId"]!).Order(StringComparer.Ordinal));
        Assert.Equal(expectedMethods.Count, (int?)map["counters"]!["methods"]);
        Assert.Equal(Enumerable.Range(1, uploaded.Count), uploaded.Select(u => (int)u.Method["idxInMapping"]!));
        var byId = expectedMethods.ToDictionary(m => m.Id);
        Assert.All(uploaded, u =>
        {
            var local = byId[(string)u.Method["uniqueId"]!];
            Assert.Equal(local.File, u.File);
            Assert.Equal(local.StartLine, (int)u.Method["position"]![0]!);
            Assert.Equal(local.EndLine, (int)u.Method["endPosition"]![0]!);
        });
        var echo = uploaded.Single(u => (string?)u.Method["uniqueId"] == "SampleFunction|SampleFunction.Function|Echo(System.String)").Method;
        Assert.Equal("SampleFunction.Function.Echo(System.String)", (string?)echo["displayName"]);
        Assert.False((bool)echo["meta"]!["anonymous"]!);
        Assert.True((bool)uploaded.First(u => ((string)u.Method["uniqueId"]!).Contains(">lambda_")).Method["meta"]!["anonymous"]!);

        // The function's settings file now names the build session, and keeps its other keys.
        var written = JsonNode.Parse(File.ReadAllText(settings))!;
        Assert.Equal(bsid, (string?)written["SL_BUILD_SESSION_ID"]);
        Assert.Equal("Smoke", (string?)written["SL_TEST_STAGE"]);

        // A second upload for the same session is refused before anything is sent.
        var again = await CliAsync("scan", sample.Directory, "--upload", "--bsid", bsid, "--token-file", TokenFile);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains($"build session {bsid} already has a build map", again.StdErr);
        Assert.Equal(1, _backend.AllRequests().Count(r => (string?)r["route"] == "buildmapping"));
        Assert.DoesNotContain(Token, result.Output + again.Output);
    }

    [Fact]
    public async Task Scan_upload_to_an_unknown_build_session_uploads_nothing()
    {
        var result = await CliAsync("scan", sample.Directory, "--upload", "--bsid", "no-such-session", "--token-file", TokenFile);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("build map not uploaded: build session no-such-session is unknown to http://127.0.0.1:", result.StdErr);
        Assert.Equal(["buildsession-get"], _backend.AllRequests().Select(r => (string?)r["route"]));
    }

    [Theory]
    [InlineData("", "--upload needs the build session")]
    [InlineData("--bsid=a b", "the build session id contains spaces")]
    public async Task Scan_upload_without_a_usable_bsid_is_bad_input(string bsidArgument, string message)
    {
        string[] arguments = ["scan", sample.Directory, "--upload", "--token-file", TokenFile, .. bsidArgument.Length > 0 ? new[] { bsidArgument } : []];

        var result = await CliAsync(arguments);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.StdErr);
        Assert.Empty(_backend.AllRequests());
    }

    [Fact]
    public async Task The_stand_in_backend_refuses_a_build_map_without_a_bsid_or_method_ids()
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + Token);
        async Task<(int Status, string Reason)> PostAsync(string json)
        {
            using var response = await http.PostAsync($"{_backend.Server}/v4/agents/buildmapping/", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        Assert.Equal((400, "meta.buildSessionId is missing"), await PostAsync("""{"meta":{},"version":"2.0","files":[]}"""));
        Assert.Equal((400, "files[].methods[].uniqueId is missing (in a.cs)"), await PostAsync("""{"meta":{"buildSessionId":"b1"},"files":[{"logicalPath":"a.cs","methods":[{"displayName":"M"}]}]}"""));
        Assert.Equal(200, (await PostAsync("""{"meta":{"buildSessionId":"b1"},"files":[{"logicalPath":"a.cs","methods":[{"uniqueId":"A|T|M()"}]}]}""")).Status);
        Assert.Null(await _backend.BuildMapAsync("b2"));
        Assert.Equal("A|T|M()", (string?)(await _backend.BuildMapAsync("b1"))!["buildMap"]!["files"]![0]!["methods"]![0]!["uniqueId"]);
    }

    [Fact]
    public async Task Execution_start_and_end_send_what_slnodejs_start_and_end_send_and_the_agents_see_the_execution()
    {
        var bsid = (await CliAsync("config", "--token-file", TokenFile, "--app", "calc-app", "--branch", "main", "--build", "1")).StdOut.Trim();
        using var http = new HttpClient();
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + Token);
        async Task<JsonNode?> ActiveAsync() => JsonNode.Parse(await http.GetStringAsync($"{_backend.Server}/v4/testExecution/{bsid}/"))!["execution"];
        Assert.Null(await ActiveAsync());

        var started = await CliAsync("execution", "start", "--token-file", TokenFile, "--bsid", bsid, "--test-stage", "Functional Tests");

        Assert.True(started.ExitCode == 0, started.Output);
        Assert.Contains("test stage \"Functional Tests\" open in lab " + bsid, started.StdErr);
        var start = _backend.AllRequests().Single(r => (string?)r["route"] == "execution-start");
        Assert.Equal("POST", (string?)start["method"]);
        Assert.Equal("/api/v3/testExecution/", (string?)start["path"]);
        Assert.Equal("gzip+json", (string?)start["bodyKind"]);
        // The body slnodejs 6.1.1133 sends (Conformance/README.md): the service names the execution.
        var expected = new JsonObject
        {
            ["isValidToken"] = true, ["server"] = _backend.Server.AbsoluteUri, ["appName"] = "calc-app", ["branchName"] = "main", ["buildName"] = "1",
            ["customerId"] = "customer", ["environment"] = bsid, ["newEnvironment"] = "Functional Tests", ["testStage"] = "Functional Tests",
        };
        Assert.True(JsonNode.DeepEquals(expected, start["body"]), start["body"]!.ToJsonString());
        var headers = start["headers"]!.AsObject();
        Assert.Equal(bsid, (string?)headers["x-sl-bsid"]);
        Assert.Equal("TestListener", (string?)JsonNode.Parse((string)headers["sl-metadata"]!)!["agentType"]);
        var active = await ActiveAsync();
        Assert.Equal("Functional Tests", (string?)active?["testStage"]);
        Assert.Equal(bsid, (string?)active?["buildSessionId"]);

        var ended = await CliAsync("execution", "end", "--token-file", TokenFile, "--bsid", bsid);

        Assert.True(ended.ExitCode == 0, ended.Output);
        var end = _backend.AllRequests().Single(r => (string?)r["route"] == "execution-end");
        Assert.Equal("DELETE", (string?)end["method"]);
        Assert.Equal($"/api/v3/testExecution/?customerId=customer&appName=calc-app&buildName=1&branchName=main&environment={bsid}", (string?)end["rawTarget"]);
        Assert.Equal("empty", (string?)end["bodyKind"]);
        Assert.Null(await ActiveAsync());
        Assert.DoesNotContain(Token, started.Output + ended.Output);
    }

    [Fact]
    public async Task Execution_start_for_an_unknown_build_session_says_so_and_opens_nothing()
    {
        var result = await CliAsync("execution", "start", "--token-file", TokenFile, "--bsid", "no-such-session", "--test-stage", "Functional Tests");

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("sl-images execution start:", result.StdErr);
        Assert.Contains("no-such-session", result.StdErr);
        Assert.Equal(["buildsession-get"], _backend.AllRequests().Select(r => (string?)r["route"]));
    }

    [Theory]
    [InlineData("start", "--bsid=a b", "--bsid contains spaces")]
    [InlineData("start", "--lab-id=x/y", "--lab-id contains spaces, slashes")]
    [InlineData("start", "--test-stage= ", "--test-stage must be a non-empty name")]
    public async Task Execution_with_bad_ids_is_bad_input_and_sends_nothing(string verb, string argument, string message)
    {
        var arguments = new List<string> { "execution", verb, "--token-file", TokenFile, "--bsid", "b1", "--test-stage", "T" };
        var name = argument[..argument.IndexOf('=')];
        var at = arguments.IndexOf(name);
        if (at >= 0)
        {
            arguments.RemoveRange(at, 2);
        }
        arguments.Add(argument);

        var result = await CliAsync([.. arguments]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.StdErr);
        Assert.Empty(_backend.AllRequests());
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static Task<ProcessResult> CliAsync(params string[] arguments) => CliAsync(new Dictionary<string, string>(), arguments);

    private static Task<ProcessResult> CliAsync(Dictionary<string, string> environment, params string[] arguments)
    {
        // A token in the test runner's own environment must not leak into these runs.
        environment.TryAdd("SL_TOKEN", "");
        environment.TryAdd("SL_TOKEN_FILE", "");
        return ProcessRunner.RunAsync("dotnet", [Cli, .. arguments], TimeSpan.FromMinutes(2), environment: environment);
    }
}
