using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;

// A stand-in of the Sealights backend for tests (see README.md). Arguments: --urls (ASP.NET Core),
// --record FILE (accepted requests as JSON lines), --token TOKEN (the only Bearer accepted),
// --execution ID (an execution active from the start), --record-all FILE (every request, whatever
// its answer, body decoded: for studying another agent's traffic), --certificate FILE [--certificate-key
// FILE] (HTTPS for the https:// addresses of --urls; see HttpsCertificate.cs).
var recordPath = Argument(args, "--record");
var state = new BackendState(recordPath, Argument(args, "--token"));
var api = new AgentApiState();
var recordAll = Argument(args, "--record-all") is { } recordAllPath ? new TrafficRecorder(recordAllPath) : null;
if (Argument(args, "--execution") is { } initialExecution)
{
    state.SetExecution(new Execution(initialExecution, null, "Functional Tests"));
}

var builder = WebApplication.CreateSlimBuilder(args);
HttpsCertificate.Configure(builder, args);
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();
if (recordAll is not null)
{
    app.Use((context, next) => context.Request.Path.StartsWithSegments("/_control") ? next() : recordAll.InvokeAsync(context, next));
}
// A slow backend (--delay-ms, or /_control/delay): every request but the control API's is answered that much later.
if (Argument(args, "--delay-ms") is { } delayArgument)
{
    state.Delay = TimeSpan.FromMilliseconds(int.Parse(delayArgument, System.Globalization.CultureInfo.InvariantCulture));
}
app.Use(async (context, next) =>
{
    if (!context.Request.Path.StartsWithSegments("/_control") && state.Delay > TimeSpan.Zero)
    {
        try
        {
            await Task.Delay(state.Delay, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            return;
        }
    }
    await next();
});

app.MapGet("/_control/health", () => Results.Ok());
app.MapPost("/_control/delay", async (HttpContext context) =>
{
    var body = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync())!.AsObject();
    state.Delay = TimeSpan.FromMilliseconds((double?)body["ms"] ?? 0);
    return Results.Ok();
});
app.MapGet("/_control/stats", () => Results.Text(state.Stats().ToJsonString(), "application/json"));
app.MapGet("/_control/build-map/{bsid}", (string bsid) =>
    api.BuildMap(bsid) is { } upload ? Results.Text(upload.ToJsonString(), "application/json") : Results.NotFound($"no build map uploaded for {bsid}"));
app.MapPost("/_control/mode", async (HttpContext context) =>
{
    var body = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync())!.AsObject();
    var mode = (string?)body["mode"] ?? "";
    if (mode == "active-execution")
    {
        state.SetExecution((bool?)body["active"] == false
            ? null
            : new Execution((string?)body["executionId"] ?? "execution-1", (string?)body["buildSessionId"], (string?)body["testStage"], (string?)body["status"] ?? "created"));
        return Results.Ok();
    }
    if (mode == "remote-config")
    {
        api.RemoteConfig = body["config"] as JsonObject ?? [];
        return Results.Ok();
    }
    if (mode == "build-session")
    {
        api.CreateSession((string?)body["appName"], (string?)body["branchName"], (string?)body["buildName"], (string?)body["buildSessionId"]);
        return Results.Ok();
    }
    if (mode is not ("ok" or "down" or "error500" or "hang"))
    {
        return Results.BadRequest($"unknown mode {mode}");
    }
    state.SetFault(new Fault(mode, (int?)body["count"], (string?)body["scope"] == "all", TimeSpan.FromSeconds((double?)body["holdSeconds"] ?? 30)));
    return Results.Ok();
});
app.Map("/{**path}", (HttpContext context) => Serve(context, state, api));
app.Run();
return 0;

static async Task Serve(HttpContext context, BackendState state, AgentApiState api)
{
    var request = context.Request;
    var path = request.Path.Value ?? "";
    var route = Routes.Match(request.Method, path);
    if (route is null)
    {
        if (!await AgentApi.TryServeAsync(context, state, api))
        {
            await Reject(context, state, 404, $"no such route: {request.Method} {path}");
        }
        return;
    }
    context.Items["route"] = route.Kind;

    var fault = state.TakeFault(route.Kind);
    switch (fault)
    {
        case "down":
            context.Response.StatusCode = 503;
            return;
        case "error500":
            context.Response.StatusCode = 500;
            return;
        case "hang":
            try
            {
                await Task.Delay(state.HoldFor, context.RequestAborted);
                context.Response.StatusCode = 504;
            }
            catch (OperationCanceledException)
            {
                // The client gave up.
            }
            return;
    }

    var authorization = request.Headers.Authorization.ToString();
    if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || authorization.Length <= "Bearer ".Length
        || (state.ExpectedToken is { } expected && authorization != "Bearer " + expected))
    {
        await Reject(context, state, 401, "missing or wrong Bearer token");
        return;
    }

    if (route.Kind == "execution")
    {
        var execution = state.CurrentExecution;
        state.Record(context, route, body: null);
        if (execution is null)
        {
            // 200 and no "execution", as the real service evidently answers: slnodejs takes a 404
            // here as an error (a warning per poll, no "no execution" event) and dies on an empty one.
            await Results.Text("{}", "application/json").ExecuteAsync(context);
            return;
        }
        var answer = new JsonObject
        {
            ["execution"] = new JsonObject
            {
                ["executionId"] = execution.ExecutionId,
                ["buildSessionId"] = execution.BuildSessionId,
                ["testStage"] = execution.TestStage,
                ["status"] = execution.Status,
            },
        };
        await Results.Text(answer.ToJsonString(), "application/json").ExecuteAsync(context);
        return;
    }

    byte[] raw;
    using (var buffer = new MemoryStream())
    {
        await request.Body.CopyToAsync(buffer);
        raw = buffer.ToArray();
    }
    // The two content types slnodejs sends footprints with: octet-stream to the server, JSON to a collector.
    var contentType = request.ContentType?.Split(';')[0].Trim() ?? "";
    if (contentType is not ("application/octet-stream" or "application/json"))
    {
        await Reject(context, state, 415, $"Content-Type must be application/octet-stream or application/json, was '{request.ContentType}'");
        return;
    }
    var gzip = request.Headers.ContentEncoding.ToString();
    if (gzip != "gzip" && route.Kind == "footprints")
    {
        await Reject(context, state, 400, $"Content-Encoding must be gzip, was '{gzip}'");
        return;
    }
    byte[] json = raw;
    if (gzip == "gzip")
    {
        try
        {
            using var decompressed = new MemoryStream();
            using (var unzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress))
            {
                unzip.CopyTo(decompressed);
            }
            json = decompressed.ToArray();
        }
        catch (InvalidDataException)
        {
            await Reject(context, state, 400, "the body is not gzip");
            return;
        }
    }
    JsonNode? document;
    try
    {
        document = JsonNode.Parse(json);
    }
    catch (JsonException)
    {
        await Reject(context, state, 400, "the body is not JSON");
        return;
    }
    if (Footprints.Problem(document, route, request.Headers) is { } problem)
    {
        await Reject(context, state, 400, problem);
        return;
    }
    state.Record(context, route, document);
    context.Response.StatusCode = 200;
}

static async Task Reject(HttpContext context, BackendState state, int status, string reason)
{
    state.Rejected();
    context.Items["reason"] = reason;
    Console.Error.WriteLine($"rejected {context.Request.Method} {context.Request.Path}: {status} {reason}");
    context.Response.StatusCode = status;
    await context.Response.WriteAsync(reason);
}

static string? Argument(string[] args, string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

internal sealed record Execution(string ExecutionId, string? BuildSessionId, string? TestStage, string Status = "created");

internal sealed record Fault(string Mode, int? Count, bool IncludeExecution, TimeSpan Hold);

internal sealed record Route(string Kind, string Bsid, string? SecondBsid, string? TestStage, string? LabId);

internal static partial class Routes
{
    // {base} is any prefix, e.g. /api.
    [GeneratedRegex("^(?<base>.*)/v6/agents/(?<bsid>[^/]+)/footprints/(?<stage>[^/]+)/(?<bsid2>[^/]+)/?$")]
    private static partial Regex ServerFootprints();

    [GeneratedRegex("^(?<base>.*)/v6/agents/(?<bsid>[^/]+)/footprints/?$")]
    private static partial Regex CollectorFootprints();

    [GeneratedRegex("^(?<base>.*)/v4/testExecution/(?<lab>[^/]+)/?$")]
    private static partial Regex ActiveExecution();

    public static Route? Match(string method, string path)
    {
        if (method == "POST" && ServerFootprints().Match(path) is { Success: true } server)
        {
            return new Route("footprints", server.Groups["bsid"].Value, server.Groups["bsid2"].Value, server.Groups["stage"].Value, null);
        }
        if (method == "POST" && CollectorFootprints().Match(path) is { Success: true } collector)
        {
            return new Route("collector-footprints", collector.Groups["bsid"].Value, null, null, null);
        }
        if (method == "GET" && ActiveExecution().Match(path) is { Success: true } execution)
        {
            return new Route("execution", "", null, null, execution.Groups["lab"].Value);
        }
        return null;
    }
}

internal static class Footprints
{
    /// <summary>Why a footprints request is not what the documented v6 contract says, or null.</summary>
    public static string? Problem(JsonNode? document, Route route, IHeaderDictionary headers)
    {
        if (document is not JsonObject root)
        {
            return "the body is not a JSON object";
        }
        if ((string?)root["formatVersion"] != "6.0")
        {
            return "formatVersion must be \"6.0\"";
        }
        if (root["meta"] is not JsonObject meta || meta["agentId"] is null || meta["labId"] is null
            || meta["intervals"]?["timedFootprintsCollectionIntervalSeconds"] is null)
        {
            return "meta must have agentId, labId and intervals.timedFootprintsCollectionIntervalSeconds";
        }
        if (root["methods"] is not JsonArray methods || methods.Any(m => m?.GetValueKind() != JsonValueKind.String))
        {
            return "methods must be an array of strings";
        }
        if (root["branches"] is not JsonArray)
        {
            return "branches must be an array";
        }
        if (root["executions"] is not JsonArray { Count: > 0 } executions)
        {
            return "executions must be a non-empty array";
        }
        foreach (var execution in executions)
        {
            // A collector takes executions without an id (slnodejs sends none there: the collector resolves it).
            if ((execution?["executionId"] is null && route.Kind == "footprints") || execution?["hits"] is not JsonArray { Count: > 0 } hits)
            {
                return "each execution needs an executionId and hits";
            }
            foreach (var hit in hits)
            {
                if (hit?["methods"] is not JsonArray indices || indices.Any(i => i is null || (int)i < 0 || (int)i >= methods.Count))
                {
                    return "hits[].methods must be indices into methods";
                }
                if (hit["branches"] is not JsonArray || hit["start"] is null || hit["end"] is null || (long)hit["start"]! > (long)hit["end"]!)
                {
                    return "hits[] need branches, start and end (start <= end)";
                }
                // Epoch seconds, as slnodejs sends them (10^11 s is the year 5138: beyond it, milliseconds).
                if ((long)hit["end"]! >= 100_000_000_000)
                {
                    return "hits[].start and end must be epoch seconds";
                }
                foreach (var flag in new[] { "isInitFootprints", "isFinalFootprints" })
                {
                    if (hit[flag] is { } value && value.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        return $"hits[].{flag} must be a boolean";
                    }
                }
            }
        }
        // The agent's own bsid is the last segment (the first is the execution's build session:
        // an integration build or another component, as slnodejs routes it) or the only one (collector).
        var bsid = headers["x-sl-bsid"].ToString();
        if (bsid != (route.SecondBsid ?? route.Bsid))
        {
            return $"x-sl-bsid '{bsid}' does not match the route's agent bsid '{route.SecondBsid ?? route.Bsid}'";
        }
        if (headers["x-sl-labId"].ToString() != (string?)meta["labId"])
        {
            return "x-sl-labId does not match meta.labId";
        }
        if (headers["x-sl-agentId"].ToString() != (string?)meta["agentId"])
        {
            return "x-sl-agentId does not match meta.agentId";
        }
        // x-sl-executionId is not compared with the body: slnodejs sends the current execution in the
        // header and may carry an earlier execution's hits in the body (after the execution changed).
        return null;
    }
}

internal sealed class BackendState(string? recordPath, string? expectedToken)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, int> _byRoute = [];
    private Execution? _execution;
    private Fault _fault = new("ok", null, false, TimeSpan.FromSeconds(30));
    private int _accepted;
    private int _rejected;
    private int _faulted;

    public string? ExpectedToken { get; } = expectedToken;

    private long _delayTicks;

    /// <summary>How long every request waits before it is served (a slow backend); zero by default.</summary>
    public TimeSpan Delay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _delayTicks));
        set => Interlocked.Exchange(ref _delayTicks, Math.Max(0, value.Ticks));
    }

    public Execution? CurrentExecution
    {
        get
        {
            lock (_gate)
            {
                return _execution;
            }
        }
    }

    public TimeSpan HoldFor
    {
        get
        {
            lock (_gate)
            {
                return _fault.Hold;
            }
        }
    }

    public void SetExecution(Execution? execution)
    {
        lock (_gate)
        {
            _execution = execution;
        }
    }

    public void SetFault(Fault fault)
    {
        lock (_gate)
        {
            _fault = fault;
        }
    }

    /// <summary>The fault to apply to this request ("ok" for none), counting it down.</summary>
    public string TakeFault(string kind)
    {
        lock (_gate)
        {
            if (_fault.Mode == "ok" || (kind == "execution" && !_fault.IncludeExecution))
            {
                return "ok";
            }
            var mode = _fault.Mode;
            _faulted++;
            if (_fault.Count is { } count)
            {
                _fault = count <= 1 ? _fault with { Mode = "ok", Count = null } : _fault with { Count = count - 1 };
            }
            return mode;
        }
    }

    public void Rejected()
    {
        lock (_gate)
        {
            _rejected++;
        }
    }

    public void Record(HttpContext context, Route route, JsonNode? body)
    {
        var request = context.Request;
        var headers = new JsonObject();
        foreach (var (name, values) in request.Headers)
        {
            headers[name.ToLowerInvariant()] = values.ToString();
        }
        if (headers["authorization"] is { } authorization)
        {
            headers["authorization"] = TrafficRecorder.MaskAuthorization((string)authorization!);
        }
        var line = new JsonObject
        {
            ["time"] = DateTimeOffset.UtcNow.ToString("O"),
            ["method"] = request.Method,
            ["route"] = route.Kind,
            ["path"] = request.Path.Value,
            ["rawTarget"] = context.Features.Get<IHttpRequestFeature>()?.RawTarget,
            ["host"] = request.Host.Value,
            ["bsid"] = route.Bsid,
            ["testStage"] = route.TestStage,
            ["labId"] = route.LabId,
            ["headers"] = headers,
            ["body"] = body?.DeepClone(),
        }.ToJsonString();
        lock (_gate)
        {
            _accepted++;
            _byRoute[route.Kind] = _byRoute.GetValueOrDefault(route.Kind) + 1;
            if (recordPath is not null)
            {
                File.AppendAllText(recordPath, line + "\n", new UTF8Encoding(false));
            }
        }
    }

    public JsonObject Stats()
    {
        lock (_gate)
        {
            var byRoute = new JsonObject();
            foreach (var (kind, count) in _byRoute)
            {
                byRoute[kind] = count;
            }
            return new JsonObject { ["accepted"] = _accepted, ["rejected"] = _rejected, ["faulted"] = _faulted, ["byRoute"] = byRoute };
        }
    }
}
