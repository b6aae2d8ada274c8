using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

/// <summary>
/// The rest of the agent API that Sealights' Node agent (slnodejs 6.1.1133) calls, answered in the
/// shapes its code reads: build session create/validate, remote config, build mapping and blobs,
/// agent events, logs and metrics, start/end execution. Observation, not validation: every
/// request is recorded by <see cref="TrafficRecorder"/> whatever it carries.
/// </summary>
internal static partial class AgentApi
{
    [GeneratedRegex("^(?<base>.*?)/v2/agents/buildsession/?$")]
    private static partial Regex CreateBuildSession();

    [GeneratedRegex("^(?<base>.*?)/v2/agents/buildsession/(?<bsid>[^/]+)/?$")]
    private static partial Regex GetBuildSession();

    [GeneratedRegex("^(?<base>.*?)/v3/config/?$")]
    private static partial Regex RemoteConfig();

    [GeneratedRegex("^(?<base>.*?)/v4/agents/buildmapping/?$")]
    private static partial Regex BuildMapping();

    [GeneratedRegex("^(?<base>.*?)/v5/agents/partial-buildmapping/build-sessions/(?<bsid>[^/]+)/parts/[^/]+/?$")]
    private static partial Regex PartialBuildMapping();

    [GeneratedRegex("^(?<base>.*?)/v5/agents/buildmapping/build-sessions/(?<bsid>[^/]+)/submitted/?$")]
    private static partial Regex BuildMappingSubmitted();

    [GeneratedRegex("^(?<base>.*?)/v5/agents/builds/(?<bsid>[^/]+)/instrumentation-methodology/?$")]
    private static partial Regex InstrumentationMethodology();

    [GeneratedRegex("^(?<base>.*?)/v1/agents/blobs/(?<bsid>[^/]+)(/(?<blob>[^/]+))?/?$")]
    private static partial Regex Blobs();

    [GeneratedRegex("^(?<base>.*?)/(v3/agents/agent-events|v2/agents/events|v2/logsubmission|v1/agents-metrics|v3/agents/buildend|v5/agents/build-sessions/[^/]+/buildend)/?$")]
    private static partial Regex Accepted();

    [GeneratedRegex("^(?<base>.*?)/v3/testExecution/?$")]
    private static partial Regex TestExecution();

    /// <summary>Answers the request when it is one of these routes; false when unknown (the caller answers 404).</summary>
    public static async Task<bool> TryServeAsync(HttpContext context, BackendState state, AgentApiState api)
    {
        var method = context.Request.Method;
        var path = context.Request.Path.Value ?? "";
        Match match;
        if (method == "POST" && CreateBuildSession().IsMatch(path))
        {
            var request = await Body(context);
            var session = api.CreateSession((string?)request?["appName"], (string?)request?["branchName"], (string?)request?["buildName"], (string?)request?["buildSessionId"]);
            context.Items["route"] = "buildsession-create";
            // slnodejs JSON-parses the answer and writes the result to its bsid file: a JSON string.
            await Json(context, JsonValue.Create(session.BuildSessionId));
            return true;
        }
        if (method == "GET" && (match = GetBuildSession().Match(path)).Success)
        {
            context.Items["route"] = "buildsession-get";
            if (!await Authorized(context, state))
            {
                return true;
            }
            Record(context, state, "buildsession-get", match.Groups["bsid"].Value, null);
            if (api.Session(match.Groups["bsid"].Value) is not { } session)
            {
                context.Response.StatusCode = 404;
                return true;
            }
            await Json(context, new JsonObject
            {
                ["buildSessionId"] = session.BuildSessionId,
                ["appName"] = session.AppName,
                ["branchName"] = session.BranchName,
                ["buildName"] = session.BuildName,
            });
            return true;
        }
        if (method == "GET" && RemoteConfig().IsMatch(path))
        {
            context.Items["route"] = "remote-config";
            if (!await Authorized(context, state))
            {
                return true;
            }
            Record(context, state, "remote-config", context.Request.Headers["x-sl-bsid"].ToString(), null);
            // A flat object of configuration keys that override the agent's; {} overrides nothing.
            await Json(context, api.RemoteConfig);
            return true;
        }
        if (method == "POST" && BuildMapping().IsMatch(path))
        {
            var request = await Body(context);
            context.Items["route"] = "buildmapping";
            if (BuildMapProblem(context, request) is { } problem)
            {
                context.Response.StatusCode = problem.Status;
                context.Items["reason"] = problem.Reason;
                Console.Error.WriteLine($"rejected {method} {path}: {problem.Status} {problem.Reason}");
                await context.Response.WriteAsync(problem.Reason);
                return true;
            }
            var bsid = (string)request!["meta"]!["buildSessionId"]!;
            api.KeepBuildMap(bsid, new JsonObject { ["headers"] = Headers(context.Request), ["buildMap"] = request.DeepClone() });
            api.MarkSubmitted(bsid);
            await Json(context, new JsonObject());
            return true;
        }
        if (method == "POST" && PartialBuildMapping().IsMatch(path))
        {
            var request = await Body(context);
            context.Items["route"] = "buildmapping";
            if (((string?)request?["buildSessionId"] ?? (string?)request?["meta"]?["buildSessionId"] ?? context.Request.Headers["x-sl-bsid"].ToString()) is { Length: > 0 } bsid)
            {
                api.MarkSubmitted(bsid);
            }
            await Json(context, new JsonObject());
            return true;
        }
        if (method == "GET" && (match = BuildMappingSubmitted().Match(path)).Success)
        {
            context.Items["route"] = "buildmapping-submitted";
            await Json(context, new JsonObject { ["data"] = new JsonObject { ["submitted"] = api.IsSubmitted(match.Groups["bsid"].Value) } });
            return true;
        }
        if (method == "GET" && InstrumentationMethodology().IsMatch(path))
        {
            context.Items["route"] = "instrumentation-methodology";
            await Json(context, new JsonObject { ["data"] = new JsonObject { ["methodology"] = "Methods" } });
            return true;
        }
        if (Blobs().IsMatch(path) && method is "POST" or "GET")
        {
            context.Items["route"] = "blobs";
            // GET ?view=concatJson: the build's sl-mapping blobs as one JSON array; none here.
            await Json(context, method == "GET" ? new JsonArray() : new JsonObject());
            return true;
        }
        if (method == "POST" && path.TrimEnd('/').EndsWith("/v3/agents/agent-events", StringComparison.Ordinal))
        {
            context.Items["route"] = "agent-events";
            if (!await Authorized(context, state))
            {
                return true;
            }
            var events = await Body(context);
            if (AgentEventsProblem(events, context.Request.Headers) is { } problem)
            {
                state.Rejected();
                context.Items["reason"] = problem;
                Console.Error.WriteLine($"rejected {method} {path}: 400 {problem}");
                context.Response.StatusCode = 400;
                await context.Response.WriteAsync(problem);
                return true;
            }
            Record(context, state, "agent-events", context.Request.Headers["x-sl-bsid"].ToString(), events);
            await Json(context, new JsonObject());
            return true;
        }
        if (method == "POST" && (match = Accepted().Match(path)).Success)
        {
            context.Items["route"] = match.Groups[1].Value.Split('/') switch
            {
                [_, _, "agent-events"] => "agent-events",
                [_, _, "events"] => "events",
                [_, "logsubmission"] => "logs",
                [_, "agents-metrics"] => "metrics",
                _ => "buildend",
            };
            await Json(context, new JsonObject());
            return true;
        }
        if ((match = TestExecution().Match(path)).Success && method is "POST" or "DELETE")
        {
            context.Items["route"] = method == "POST" ? "execution-start" : "execution-end";
            if (method == "POST")
            {
                var request = await Body(context);
                var bsid = (string?)request?["buildSessionId"] ?? context.Request.Headers["x-sl-bsid"].ToString();
                state.SetExecution(new Execution(
                    (string?)request?["executionId"] ?? $"execution-{Guid.NewGuid():N}"[..20],
                    bsid.Length > 0 ? bsid : null,
                    (string?)request?["testStage"] ?? (string?)request?["newEnvironment"] ?? (string?)request?["environment"]));
            }
            else
            {
                state.SetExecution(null);
            }
            await Json(context, new JsonObject());
            return true;
        }
        return false;
    }

    /// <summary>
    /// The shape slnodejs sends and the agent must: <c>{"agentId","events":[{"type":int,"utcTimestamp_ms":number,…}],…}</c>,
    /// <c>x-sl-messageType</c> = the first event's type, 1001's <c>data.agentInfo.agentId</c> = <c>agentId</c>.
    /// </summary>
    internal static string? AgentEventsProblem(JsonNode? body, IHeaderDictionary headers)
    {
        if (body is not JsonObject root || root["agentId"] is not JsonValue agentId || agentId.GetValueKind() != System.Text.Json.JsonValueKind.String)
        {
            return "agent events: no agentId";
        }
        if (root["events"] is not JsonArray { Count: > 0 } events)
        {
            return "agent events: no events";
        }
        foreach (var item in events)
        {
            if (item?["type"] is not JsonValue type || type.GetValueKind() != System.Text.Json.JsonValueKind.Number
                || item["utcTimestamp_ms"] is not JsonValue stamp || stamp.GetValueKind() != System.Text.Json.JsonValueKind.Number)
            {
                return "agent events: an event without a numeric type and utcTimestamp_ms";
            }
            if ((int)type == 1001 && (string?)item["data"]?["agentInfo"]?["agentId"] != (string?)agentId)
            {
                return "agent events: 1001 without data.agentInfo.agentId = agentId";
            }
        }
        var messageType = headers["x-sl-messageType"].ToString();
        if (messageType != ((int)events[0]!["type"]!).ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            return $"agent events: x-sl-messageType '{messageType}' is not the first event's type";
        }
        return null;
    }

    private static async Task<bool> Authorized(HttpContext context, BackendState state)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.Ordinal) && authorization.Length > "Bearer ".Length
            && (state.ExpectedToken is not { } expected || authorization == "Bearer " + expected))
        {
            return true;
        }
        state.Rejected();
        context.Items["reason"] = "missing or wrong Bearer token";
        context.Response.StatusCode = 401;
        await context.Response.WriteAsync("missing or wrong Bearer token");
        return false;
    }

    // The --record file gets the agent API calls our agent makes too (route, headers, decoded body).
    private static void Record(HttpContext context, BackendState state, string kind, string bsid, JsonNode? body) =>
        state.Record(context, new Route(kind, bsid, null, null, context.Request.Headers["x-sl-labId"].ToString() is { Length: > 0 } lab ? lab : null), body);

    /// Why a build map (<c>POST /v4/agents/buildmapping/</c>) is refused, or null: a Bearer token,
    /// a JSON object with <c>meta.buildSessionId</c>, <c>files[]</c> and a <c>uniqueId</c> on every
    /// <c>files[].methods[]</c> (what footprints are matched against).
    /// </summary>
    private static (int Status, string Reason)? BuildMapProblem(HttpContext context, JsonNode? request)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || authorization.Length <= "Bearer ".Length)
        {
            return (401, "missing Bearer token");
        }
        if (request is not JsonObject map)
        {
            return (400, "the build map is not a JSON object (gzip or plain JSON)");
        }
        if (map["meta"]?["buildSessionId"] is not JsonValue bsid || !bsid.TryGetValue<string>(out var id) || id.Length == 0)
        {
            return (400, "meta.buildSessionId is missing");
        }
        if (map["files"] is not JsonArray files)
        {
            return (400, "files must be an array");
        }
        foreach (var file in files)
        {
            if (file?["methods"] is not JsonArray methods)
            {
                return (400, "files[].methods must be an array");
            }
            if (methods.Any(m => m?["uniqueId"] is not JsonValue unique || !unique.TryGetValue<string>(out var text) || text.Length == 0))
            {
                return (400, $"files[].methods[].uniqueId is missing (in {(string?)file["logicalPath"] ?? "a file"})");
            }
        }
        return null;
    }

    private static JsonObject Headers(HttpRequest request)
    {
        var headers = new JsonObject();
        foreach (var (name, values) in request.Headers)
        {
            var lower = name.ToLowerInvariant();
            headers[lower] = lower == "authorization" ? TrafficRecorder.MaskAuthorization(values.ToString()) : values.ToString();
        }
        return headers;
    }

    private static async Task<JsonNode?> Body(HttpContext context)
    {
        // Seekable also without --record-all (which buffers every body itself).
        context.Request.EnableBuffering();
        context.Request.Body.Position = 0;
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        context.Request.Body.Position = 0;
        var bytes = buffer.ToArray();
        if (bytes.Length > 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
        {
            using var output = new MemoryStream();
            using (var unzip = new System.IO.Compression.GZipStream(new MemoryStream(bytes), System.IO.Compression.CompressionMode.Decompress))
            {
                await unzip.CopyToAsync(output);
            }
            bytes = output.ToArray();
        }
        try
        {
            return bytes.Length == 0 ? null : JsonNode.Parse(bytes);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static Task Json(HttpContext context, JsonNode? body) =>
        Results.Text(body?.ToJsonString() ?? "null", "application/json").ExecuteAsync(context);
}

internal sealed record BuildSession(string BuildSessionId, string? AppName, string? BranchName, string? BuildName);

/// <summary>Build sessions, submitted build maps and the remote configuration, as the agent API above sees them.</summary>
internal sealed class AgentApiState
{
    private readonly object _gate = new();
    private readonly Dictionary<string, BuildSession> _sessions = [];
    private readonly HashSet<string> _submitted = [];
    private readonly Dictionary<string, JsonObject> _buildMaps = [];
    private JsonObject _remoteConfig = [];

    public JsonObject RemoteConfig
    {
        get
        {
            lock (_gate)
            {
                return (JsonObject)_remoteConfig.DeepClone();
            }
        }
        set
        {
            lock (_gate)
            {
                _remoteConfig = value;
            }
        }
    }

    public BuildSession CreateSession(string? appName, string? branchName, string? buildName, string? requested)
    {
        lock (_gate)
        {
            var session = new BuildSession(requested is { Length: > 0 } ? requested : Guid.NewGuid().ToString(), appName, branchName, buildName);
            _sessions[session.BuildSessionId] = session;
            return session;
        }
    }

    public BuildSession? Session(string bsid)
    {
        lock (_gate)
        {
            return _sessions.GetValueOrDefault(bsid);
        }
    }

    public void MarkSubmitted(string bsid)
    {
        lock (_gate)
        {
            _submitted.Add(bsid);
        }
    }

    /// <summary>Keeps the last build map uploaded for <paramref name="bsid"/> (with its request headers, Authorization masked).</summary>
    public void KeepBuildMap(string bsid, JsonObject upload)
    {
        lock (_gate)
        {
            _buildMaps[bsid] = upload;
        }
    }

    public JsonObject? BuildMap(string bsid)
    {
        lock (_gate)
        {
            return _buildMaps.TryGetValue(bsid, out var upload) ? (JsonObject)upload.DeepClone() : null;
        }
    }

    public bool IsSubmitted(string bsid)
    {
        lock (_gate)
        {
            return _submitted.Contains(bsid);
        }
    }
}
