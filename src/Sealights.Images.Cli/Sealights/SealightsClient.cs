using Sealights.Coverage.Tokens;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sealights.Coverage;
using Sealights.Coverage.BuildMaps;

namespace Sealights.Images.Cli.Sealights;

/// <summary>
/// The build side of Sealights' agent API, called the way Sealights' Node.js agent (slnodejs
/// 6.1.1133) calls it (tests/Sealights.Lambda.Agent.Delivery.Tests/Conformance/README.md,
/// "Build side"): the only place in the CLI that knows routes, headers and bodies.
/// </summary>
public sealed class SealightsClient
{
    private const string AgentTechnology = "dotnet";

    private readonly HttpClient _http;
    private readonly SealightsToken _token;
    private readonly string _agentType;

    /// <param name="http">Sends the requests (its timeout bounds each one).</param>
    /// <param name="token">A checked agent token: its server is the base of every route.</param>
    /// <param name="agentType">The agent type in <c>sl-metadata</c> (slnodejs: <c>slnodejs</c> for config, <c>BuildScanner</c> for scan).</param>
    public SealightsClient(HttpClient http, SealightsToken token, string agentType)
    {
        _http = http;
        _token = token;
        _agentType = agentType;
    }

    /// <summary>This process's agent id (one per process, as Sealights' agents have).</summary>
    public string AgentId { get; } = Guid.NewGuid().ToString();

    public static string AgentVersion =>
        typeof(SealightsClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary><c>POST /v2/agents/buildsession/</c>: a new build session; the answer is its id as a JSON string.</summary>
    /// <param name="labels">Extra key/values, sent as <c>additionalParams</c> when any (slnodejs has none).</param>
    public async Task<string> CreateBuildSessionAsync(string appName, string branchName, string buildName, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["appName"] = appName, ["branchName"] = branchName, ["buildName"] = buildName };
        if (labels.Count > 0)
        {
            var additional = new JsonObject();
            foreach (var (key, value) in labels)
            {
                additional[key] = value;
            }
            body["additionalParams"] = additional;
        }
        var known = new Known(appName, branchName, buildName, Bsid: null);
        var answer = await SendAsync(HttpMethod.Post, "v2/agents/buildsession/", body, known, cancellationToken);
        string? bsid = null;
        try
        {
            bsid = JsonNode.Parse(answer) is JsonValue value && value.TryGetValue<string>(out var text) ? text.Trim() : null;
        }
        catch (JsonException)
        {
            // Not JSON: reported below.
        }
        if (string.IsNullOrEmpty(bsid) || IdProblem(bsid) is not null)
        {
            throw new SealightsException($"the backend's answer to creating a build session is not a build session id (expected a JSON string, got {Excerpt(answer)})");
        }
        return bsid;
    }

    /// <summary>
    /// <c>POST /v3/testExecution/</c>: opens a test execution (a "test stage" run) in lab
    /// <paramref name="labId"/>, as <c>slnodejs start --teststage</c> does; the service names it,
    /// and the agents in that lab attribute their footprints to it until it ends.
    /// </summary>
    public async Task StartTestExecutionAsync(BuildSession session, string labId, string testStage, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["isValidToken"] = true,
            ["server"] = _token.Server.AbsoluteUri.TrimEnd('/'),
            ["appName"] = session.AppName,
            ["branchName"] = session.BranchName,
            ["buildName"] = session.BuildName,
            ["customerId"] = _token.CustomerId,
            ["environment"] = labId,
            ["newEnvironment"] = testStage,
            ["testStage"] = testStage,
        };
        await SendAsync(HttpMethod.Post, "v3/testExecution/", body, Known.Of(session), cancellationToken);
    }

    /// <summary><c>DELETE /v3/testExecution/?…&amp;environment={labId}</c>: ends the lab's open execution, as <c>slnodejs end</c> does.</summary>
    public async Task EndTestExecutionAsync(BuildSession session, string labId, CancellationToken cancellationToken)
    {
        var query = string.Join('&', new[]
        {
            ("customerId", _token.CustomerId), ("appName", session.AppName), ("buildName", session.BuildName),
            ("branchName", session.BranchName), ("environment", labId),
        }.Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2)}"));
        await SendAsync(HttpMethod.Delete, "v3/testExecution/?" + query, null, Known.Of(session), cancellationToken);
    }

    /// <summary><c>GET /v2/agents/buildsession/{bsid}/</c>: validates the bsid and gives its names.</summary>
    public async Task<BuildSession> GetBuildSessionAsync(string bsid, CancellationToken cancellationToken)
    {
        string answer;
        try
        {
            answer = await SendAsync(HttpMethod.Get, $"v2/agents/buildsession/{Uri.EscapeDataString(bsid)}/", null, new Known(null, null, null, null), cancellationToken);
        }
        catch (SealightsException e) when (e.Data["status"] is HttpStatusCode.NotFound)
        {
            throw new SealightsException($"build session {bsid} is unknown to {_token.Server} (create one with sl-images config)", refused: true);
        }
        try
        {
            if (JsonNode.Parse(answer) is JsonObject session
                && Text(session, "buildSessionId") is { } id && Text(session, "appName") is { } app
                && Text(session, "branchName") is { } branch && Text(session, "buildName") is { } build)
            {
                return new BuildSession(id, app, branch, build);
            }
        }
        catch (JsonException)
        {
            // Reported below.
        }
        throw new SealightsException($"the backend's description of build session {bsid} lacks buildSessionId, appName, branchName or buildName ({Excerpt(answer)})");
    }

    /// <summary><c>GET /v5/agents/buildmapping/build-sessions/{bsid}/submitted/</c>: whether a build map was already submitted.</summary>
    public async Task<bool> IsBuildMapSubmittedAsync(BuildSession session, CancellationToken cancellationToken)
    {
        var answer = await SendAsync(HttpMethod.Get, $"v5/agents/buildmapping/build-sessions/{Uri.EscapeDataString(session.BuildSessionId)}/submitted/", null, Known.Of(session), cancellationToken);
        try
        {
            if (JsonNode.Parse(answer)?["data"]?["submitted"] is JsonValue submitted && submitted.TryGetValue<bool>(out var value))
            {
                return value;
            }
        }
        catch (JsonException)
        {
            // Reported below.
        }
        throw new SealightsException($"the backend's answer to whether a build map was submitted is not {{\"data\":{{\"submitted\":true|false}}}} ({Excerpt(answer)})");
    }

    /// <summary><c>POST /v4/agents/buildmapping/</c>: the build map, in the shape the build-mapping API takes.</summary>
    public Task UploadBuildMapAsync(BuildSession session, BuildMap map, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "v4/agents/buildmapping/", BuildMappingDocument(session, map), Known.Of(session), cancellationToken);

    /// <summary>
    /// The build map as the build-mapping API takes it (version 2.0): methods grouped by source
    /// file, <c>uniqueId</c> = the id the agent's footprints carry. Unlike slnodejs, no
    /// <c>configurationData</c> (it holds the token there) and no process arguments.
    /// </summary>
    public JsonObject BuildMappingDocument(BuildSession session, BuildMap map)
    {
        var files = new JsonArray();
        var index = 0;
        var byFile = map.Assemblies
            .SelectMany(a => a.Methods)
            .GroupBy(m => m.File, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var file in byFile)
        {
            var methods = new JsonArray();
            foreach (var method in file.OrderBy(m => m.StartLine).ThenBy(m => m.Id, StringComparer.Ordinal))
            {
                var anonymous = MethodIdentity.TryParse(method.Id, out var identity) && identity.Member.Contains('>');
                methods.Add(new JsonObject
                {
                    ["uniqueId"] = method.Id,
                    ["displayName"] = identity is null ? method.Id : $"{identity.TypeName}.{identity.Member}",
                    // The PDB gives lines; columns are not kept by the scan (0 = unknown).
                    ["position"] = new JsonArray(method.StartLine, 0),
                    ["endPosition"] = new JsonArray(method.EndLine, 0),
                    ["meta"] = new JsonObject { ["anonymous"] = anonymous },
                    ["idxInMapping"] = ++index,
                });
            }
            files.Add(new JsonObject
            {
                ["logicalPath"] = file.Key,
                ["physicalPath"] = file.Key,
                ["absolutePath"] = file.Key,
                ["methods"] = methods,
                ["lines"] = new JsonArray(),
                ["branches"] = new JsonArray(),
                ["commitIndexes"] = new JsonArray(),
            });
        }
        return new JsonObject
        {
            ["meta"] = new JsonObject
            {
                ["generated"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                ["build"] = session.BuildName,
                ["commit"] = "N/A",
                ["customerId"] = _token.CustomerId,
                ["appName"] = session.AppName,
                ["technology"] = AgentTechnology,
                ["branch"] = session.BranchName,
                ["environment"] = new JsonObject
                {
                    ["agentVersion"] = AgentVersion,
                    ["agentType"] = _agentType,
                    ["machineName"] = Environment.MachineName,
                    ["os"] = RuntimeInformation.OSDescription,
                    ["arch"] = RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(),
                    ["processId"] = Environment.ProcessId,
                    ["runtime"] = RuntimeInformation.FrameworkDescription,
                },
                ["buildSessionId"] = session.BuildSessionId,
                ["agentId"] = AgentId,
                ["scm"] = "none",
                ["contributors"] = new JsonArray(),
            },
            ["version"] = "2.0",
            ["files"] = files,
            ["dependencies"] = new JsonArray(),
            ["includedFiles"] = new JsonArray(),
            ["counters"] = new JsonObject { ["methods"] = index, ["branches"] = 0 },
        };
    }

    /// <summary>Why <paramref name="id"/> cannot be a build session id, or null.</summary>
    public static string? IdProblem(string id) =>
        id.Length == 0 ? "is empty"
        : id.Length > 256 ? "is longer than 256 characters"
        : id.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c == '/') ? "contains spaces, slashes or control characters"
        : null;

    private async Task<string> SendAsync(HttpMethod method, string route, JsonNode? body, Known known, CancellationToken cancellationToken)
    {
        var baseAddress = _token.Server.AbsoluteUri.EndsWith('/') ? _token.Server : new Uri(_token.Server.AbsoluteUri + "/");
        using var request = new HttpRequestMessage(method, new Uri(baseAddress, route));
        request.Headers.TryAddWithoutValidation("Authorization", _token.BearerValue);
        if (body is null)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        }
        AddAgentHeaders(request, known);
        if (body is not null)
        {
            // Gzipped JSON, as Sealights' agents send every body.
            using var buffer = new MemoryStream();
            using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
            {
                gzip.Write(Encoding.UTF8.GetBytes(body.ToJsonString()));
            }
            request.Content = new ByteArrayContent(buffer.ToArray());
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Content.Headers.ContentEncoding.Add("gzip");
        }

        var what = $"{method} {request.RequestUri!.AbsolutePath}";
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new SealightsException($"cannot reach the Sealights backend {_token.Server} ({e.Message}); check the network, a proxy (HTTPS_PROXY) and the token's server", inner: e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SealightsException($"the Sealights backend {_token.Server} did not answer {what} within {_http.Timeout.TotalSeconds:0} s", inner: e);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return text;
            }
            var advice = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                ? ": the backend refuses the token (expired or revoked? use a current agent token)"
                : (int)response.StatusCode >= 500 ? ": a backend error, try again later" : "";
            var failure = new SealightsException($"the Sealights backend answered {(int)response.StatusCode} {response.ReasonPhrase} to {what}{advice}{(text.Length > 0 ? $" ({Excerpt(text)})" : "")}");
            failure.Data["status"] = response.StatusCode;
            throw failure;
        }
    }

    // The agent metadata headers, as slnodejs sets them: what is known, and a bsid not yet known as the literal "null".
    private void AddAgentHeaders(HttpRequestMessage request, Known known)
    {
        request.Headers.TryAddWithoutValidation("x-sl-agentId", AgentId);
        if (known.AppName is not null)
        {
            request.Headers.TryAddWithoutValidation("x-sl-appName", known.AppName);
            request.Headers.TryAddWithoutValidation("x-sl-branchName", known.BranchName);
            request.Headers.TryAddWithoutValidation("x-sl-buildName", known.BuildName);
            request.Headers.TryAddWithoutValidation("x-sl-bsid", known.Bsid ?? "null");
        }
        var metadata = new JsonObject();
        if (known.AppName is not null)
        {
            metadata["appName"] = known.AppName;
            metadata["branchName"] = known.BranchName;
            metadata["buildName"] = known.BuildName;
        }
        metadata["agentId"] = AgentId;
        if (known.AppName is not null)
        {
            metadata["buildSessionId"] = known.Bsid;
        }
        metadata["agentType"] = _agentType;
        metadata["agentTechnology"] = AgentTechnology;
        metadata["agentVersion"] = AgentVersion;
        request.Headers.TryAddWithoutValidation("sl-metadata", metadata.ToJsonString());
    }

    private static string? Text(JsonObject node, string name) =>
        node[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;

    private static string Excerpt(string text)
    {
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length == 0 ? "an empty body" : line.Length > 200 ? line[..200] + "…" : line;
    }

    private sealed record Known(string? AppName, string? BranchName, string? BuildName, string? Bsid)
    {
        public static Known Of(BuildSession session) => new(session.AppName, session.BranchName, session.BuildName, session.BuildSessionId);
    }
}
