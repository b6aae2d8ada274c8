using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sealights.Images.Cli.Collector;

/// <summary>
/// The local footprints collector: the routes the agent calls, in collector mode
/// (<c>SL_COLLECTOR_URL</c>) and as its server (the token's <c>x-sl-server</c>), on loopback HTTP.
/// Footprints are checked, stored durably, then answered 200; the rest of the agent's calls get
/// the answers it needs to go on (an active execution, an empty configuration).
/// </summary>
public sealed partial class CollectorServer : IAsyncDisposable
{
    // Larger bodies are refused (413): far above what one agent flush sends.
    public const int MaxBodyBytes = 64 * 1024 * 1024;

    private readonly IPEndPoint _address;
    private HttpListener _listener;
    private readonly FootprintsStore _store;
    private readonly KnownMethods _known;
    private readonly CollectorExecutions _executions;
    private readonly TextWriter _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _inFlight = [];
    private Task? _acceptLoop;
    private long _rejected;

    /// <param name="address">The address to listen on; a loopback one also answers requests addressed to <c>localhost</c>.</param>
    public CollectorServer(IPEndPoint address, FootprintsStore store, KnownMethods known, CollectorExecutions executions, TextWriter log)
    {
        _address = address;
        _listener = NewListener(address);
        _store = store;
        _known = known;
        _executions = executions;
        _log = log;
    }

    [GeneratedRegex("^(?<base>.*?)/v6/agents/(?<executionBsid>[^/]+)/footprints/(?<stage>[^/]+)/(?<bsid>[^/]+)/?$")]
    private static partial Regex ServerFootprints();

    [GeneratedRegex("^(?<base>.*?)/v6/agents/(?<bsid>[^/]+)/footprints/?$")]
    private static partial Regex CollectorFootprints();

    [GeneratedRegex("^(?<base>.*?)/v4/testExecution/(?<lab>[^/]+)/?$")]
    private static partial Regex ExecutionQuery();

    [GeneratedRegex("^(?<base>.*?)/v3/testExecution/?$")]
    private static partial Regex ExecutionControl();

    [GeneratedRegex("^(?<base>.*?)/v2/agents/buildsession/(?<bsid>[^/]+)/?$")]
    private static partial Regex BuildSession();

    [GeneratedRegex("^(?<base>.*?)/v3/config/?$")]
    private static partial Regex RemoteConfig();

    [GeneratedRegex("^(?<base>.*?)/v3/agents/agent-events/?$")]
    private static partial Regex AgentEvents();

    /// <summary>Starts listening; throws <see cref="HttpListenerException"/> when the address cannot be bound.</summary>
    public void Start()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _listener.Start();
                break;
            }
            catch (ArgumentNullException) when (attempt < 10)
            {
                // .NET's managed HttpListener accepts a connection that is already waiting (an agent
                // retrying) inside its endpoint's constructor, before that is ready, and throws. The
                // half-made endpoint's socket still holds the port until the GC releases it; then
                // a new listener starts (the waiting client saw a reset and retries).
                _listener.Close();
                GC.Collect();
                GC.WaitForPendingFinalizers();
                _listener = NewListener(_address);
            }
        }
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    private static HttpListener NewListener(IPEndPoint address)
    {
        var listener = new HttpListener();
        // HttpListener matches the Host header against its prefixes.
        listener.Prefixes.Add($"http://{Host(address.Address)}:{address.Port}/");
        if (IPAddress.IsLoopback(address.Address))
        {
            listener.Prefixes.Add($"http://localhost:{address.Port}/");
        }
        return listener;
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listener.Stop();
        if (_acceptLoop is not null)
        {
            await _acceptLoop;
        }
        Task[] running;
        lock (_inFlight)
        {
            running = [.. _inFlight];
        }
        await Task.WhenAll(running);
        _listener.Close();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            var task = Task.Run(() => ServeAsync(context));
            lock (_inFlight)
            {
                _inFlight.RemoveAll(t => t.IsCompleted);
                _inFlight.Add(task);
            }
        }
    }

    private async Task ServeAsync(HttpListenerContext context)
    {
        try
        {
            await RouteAsync(context);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away; nothing was acknowledged.
        }
        catch (Exception e)
        {
            _log.WriteLine($"sl-images collect: {context.Request.HttpMethod} {context.Request.Url?.AbsolutePath}: internal error ({e.GetType().Name}: {e.Message}); answered 500");
            TryAnswer(context, 500, "internal error: " + e.Message);
        }
    }

    private async Task RouteAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var method = request.HttpMethod;
        var path = request.Url?.AbsolutePath ?? "/";
        Match match;
        if (method == "GET" && path is "/health" or "/health/")
        {
            await JsonAsync(context, 200, w =>
            {
                w.WriteString("status", "ok");
                w.WriteString("file", _store.Path);
                w.WriteNumber("stored", _store.Stored);
                w.WriteNumber("rejected", Interlocked.Read(ref _rejected));
                w.WriteString("execution", _executions.Current.ExecutionId);
                if (_known.Enabled)
                {
                    w.WriteNumber("unknownMethodIds", _known.UnknownCount);
                }
            });
            return;
        }
        if (method == "POST" && (match = ServerFootprints().Match(path)).Success)
        {
            await FootprintsAsync(context, "server", Unescape(match, "bsid"), Unescape(match, "stage"));
            return;
        }
        if (method == "POST" && (match = CollectorFootprints().Match(path)).Success)
        {
            await FootprintsAsync(context, "collector", Unescape(match, "bsid"), null);
            return;
        }
        if (method == "GET" && ExecutionQuery().IsMatch(path))
        {
            // An agent that takes this collector for its server sends footprints only while an
            // execution is active: there always is one, the collector's current.
            var current = _executions.Current;
            await JsonAsync(context, 200, w =>
            {
                w.WriteStartObject("execution");
                w.WriteString("executionId", current.ExecutionId);
                w.WriteString("buildSessionId", request.Headers["x-sl-bsid"] is { Length: > 0 } bsid ? bsid : null);
                w.WriteString("testStage", current.TestStage);
                w.WriteString("status", "created");
                w.WriteEndObject();
            });
            return;
        }
        if (ExecutionControl().IsMatch(path) && method is "POST" or "DELETE")
        {
            await ExecutionControlAsync(context, method);
            return;
        }
        if (method == "GET" && (match = BuildSession().Match(path)).Success)
        {
            // Names are not known here; the agent leaves them out of its headers.
            var bsid = Unescape(match, "bsid");
            await JsonAsync(context, 200, w => w.WriteString("buildSessionId", bsid));
            return;
        }
        if (method == "GET" && RemoteConfig().IsMatch(path))
        {
            await JsonAsync(context, 200, _ => { });
            return;
        }
        if (method == "POST" && AgentEvents().IsMatch(path))
        {
            await DrainAsync(request);
            await JsonAsync(context, 200, _ => { });
            return;
        }
        TryAnswer(context, 404, $"no such route: {method} {path} (footprints: POST /v6/agents/{{bsid}}/footprints; health: GET /health)");
    }

    private async Task FootprintsAsync(HttpListenerContext context, string route, string bsid, string? stage)
    {
        var request = context.Request;
        var (body, problem, status) = await ReadBodyAsync(request);
        FootprintsDocument? document = null;
        if (body is not null)
        {
            document = FootprintsDocument.TryParse(body, out problem);
            status = 400;
        }
        if (document is null)
        {
            Interlocked.Increment(ref _rejected);
            _log.WriteLine($"sl-images collect: rejected POST {request.Url?.AbsolutePath}: {status} {problem}");
            TryAnswer(context, status, problem!);
            return;
        }
        _known.Check(document.Methods, bsid);
        using var parsed = JsonDocument.Parse(body);
        var header = request.Headers["x-sl-executionId"];
        var current = _executions.Current;
        // Collector mode carries no execution: the collector's current one is recorded with it.
        var executionId = header is { Length: > 0 } ? header : route == "collector" ? current.ExecutionId : null;
        var record = new StoredRecord(DateTimeOffset.UtcNow, route, bsid, request.Headers["x-sl-labId"] ?? document.LabId,
            request.Headers["x-sl-agentId"] ?? document.AgentId, executionId, stage ?? (route == "collector" ? current.TestStage : null), parsed.RootElement);
        try
        {
            await _store.AppendAsync(record);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.WriteLine($"sl-images collect: cannot store a footprints request in {_store.Path} ({e.Message}); answered 503, the agent keeps it and retries");
            TryAnswer(context, 503, "the collector cannot store the request: " + e.Message);
            return;
        }
        await JsonAsync(context, 200, _ => { });
    }

    private async Task ExecutionControlAsync(HttpListenerContext context, string method)
    {
        if (method == "DELETE")
        {
            await DrainAsync(context.Request);
            var restored = _executions.End();
            _log.WriteLine($"sl-images collect: execution ended; footprints now go to {restored.ExecutionId}");
            await JsonAsync(context, 200, w => w.WriteString("executionId", restored.ExecutionId));
            return;
        }
        var (body, problem, status) = await ReadBodyAsync(context.Request);
        string? executionId = null, testStage = null;
        if (body is { Length: > 0 })
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                if (json.RootElement.ValueKind == JsonValueKind.Object)
                {
                    executionId = Text(json.RootElement, "executionId");
                    testStage = Text(json.RootElement, "testStage");
                }
            }
            catch (JsonException e)
            {
                (problem, status) = ($"the body is not JSON ({e.Message})", 400);
            }
        }
        if (problem is not null)
        {
            TryAnswer(context, status, problem);
            return;
        }
        var started = _executions.Start(executionId, testStage);
        _log.WriteLine($"sl-images collect: execution {started.ExecutionId} ({started.TestStage}) started");
        await JsonAsync(context, 200, w => w.WriteString("executionId", started.ExecutionId));
    }

    /// <summary>The body, decompressed when it says gzip; else why not and the status to answer.</summary>
    private static async Task<(byte[]? Body, string? Problem, int Status)> ReadBodyAsync(HttpListenerRequest request)
    {
        if (request.ContentLength64 > MaxBodyBytes)
        {
            return (null, $"the body is larger than {MaxBodyBytes} bytes", 413);
        }
        var raw = await ReadLimitedAsync(request.InputStream);
        if (raw is null)
        {
            return (null, $"the body is larger than {MaxBodyBytes} bytes", 413);
        }
        var encoding = request.Headers["Content-Encoding"]?.Trim();
        if (string.IsNullOrEmpty(encoding) || encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return (raw, null, 200);
        }
        if (!encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase))
        {
            return (null, $"Content-Encoding {encoding} is not supported (gzip or none)", 415);
        }
        try
        {
            await using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            return await ReadLimitedAsync(gzip) is { } body
                ? (body, null, 200)
                : (null, $"the body decompresses to more than {MaxBodyBytes} bytes", 413);
        }
        catch (InvalidDataException)
        {
            return (null, "Content-Encoding is gzip but the body is not gzip data", 400);
        }
    }

    private static async Task<byte[]?> ReadLimitedAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static async Task DrainAsync(HttpListenerRequest request) => await request.InputStream.CopyToAsync(Stream.Null);

    private static async Task JsonAsync(HttpListenerContext context, int status, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength64 = buffer.Length;
        await context.Response.OutputStream.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        context.Response.Close();
    }

    private static void TryAnswer(HttpListenerContext context, int status, string text)
    {
        try
        {
            var bytes = Encoding.UTF8.GetBytes(text + "\n");
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/plain; charset=utf-8";
            context.Response.ContentLength64 = bytes.Length;
            context.Response.OutputStream.Write(bytes);
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The client is gone.
        }
    }

    public static string Host(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();

    private static string Unescape(Match match, string group) => Uri.UnescapeDataString(match.Groups[group].Value);

    private static string? Text(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.String ? element.GetString() : null;
}

/// <summary>
/// The execution the collector files footprints under when a request names none (collector mode),
/// and answers the execution query with: the default until a test run starts one
/// (<c>POST /v3/testExecution/</c>, as Sealights' API), back to the default when it ends (<c>DELETE</c>).
/// </summary>
public sealed class CollectorExecutions(string defaultExecutionId, string defaultTestStage)
{
    private volatile CollectorExecution _current = new(defaultExecutionId, defaultTestStage);

    public CollectorExecution Current => _current;

    public CollectorExecution Start(string? executionId, string? testStage) =>
        _current = new CollectorExecution(
            string.IsNullOrWhiteSpace(executionId) ? $"execution-{DateTimeOffset.UtcNow:yyyyMMddHHmmss}" : executionId.Trim(),
            string.IsNullOrWhiteSpace(testStage) ? defaultTestStage : testStage.Trim());

    public CollectorExecution End() => _current = new CollectorExecution(defaultExecutionId, defaultTestStage);
}

public sealed record CollectorExecution(string ExecutionId, string TestStage);
