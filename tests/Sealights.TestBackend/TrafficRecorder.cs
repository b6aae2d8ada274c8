using System.IO.Compression;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

/// <summary>
/// Records every request that reaches the backend (answered, faulted, refused or unknown) as one
/// JSON line, with the body decoded (gzip, JSON, multipart), so another agent's traffic can be
/// studied and compared. The token never reaches the file: only its shape and claim names do.
/// </summary>
internal sealed partial class TrafficRecorder(string path)
{
    // slnodejs puts its token into some bodies (log submissions, agent configuration): any JWT
    // anywhere in a line is replaced, not only the Authorization header's.
    [GeneratedRegex("eyJ[A-Za-z0-9_-]*\\.eyJ[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*")]
    private static partial Regex Jwt();

    // Fixtures are read by people: no \u escapes for <, >, +, " and non-ASCII.
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly object _gate = new();

    /// <summary>Middleware: buffers the body so handlers and the recorder both read it, records after the answer.</summary>
    public async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        context.Request.EnableBuffering();
        var received = DateTimeOffset.UtcNow;
        try
        {
            await next();
        }
        finally
        {
            context.Request.Body.Position = 0;
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var line = Line(context, buffer.ToArray(), received);
            lock (_gate)
            {
                File.AppendAllText(path, Jwt().Replace(line.ToJsonString(Readable), "<jwt redacted>") + "\n", new UTF8Encoding(false));
            }
        }
    }

    private static JsonObject Line(HttpContext context, byte[] raw, DateTimeOffset received)
    {
        var request = context.Request;
        var query = new JsonObject();
        foreach (var (name, values) in request.Query)
        {
            query[name] = values.ToString();
        }
        var (kind, body) = DecodeBody(request.Headers, raw);
        return new JsonObject
        {
            ["time"] = received.ToString("O"),
            ["method"] = request.Method,
            ["path"] = request.Path.Value,
            ["rawTarget"] = context.Features.Get<IHttpRequestFeature>()?.RawTarget,
            ["query"] = query,
            ["host"] = request.Host.Value,
            ["headers"] = Headers(request.Headers),
            ["bodyBytes"] = raw.Length,
            ["bodyKind"] = kind,
            ["body"] = body,
            ["route"] = context.Items["route"] as string ?? "unknown",
            ["status"] = context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted ? null : context.Response.StatusCode,
            ["reason"] = context.Items["reason"] as string,
        };
    }

    /// <summary>All headers, names lower-cased; Authorization reduced to its shape.</summary>
    public static JsonObject Headers(IHeaderDictionary headers)
    {
        var result = new JsonObject();
        foreach (var (name, values) in headers.OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase))
        {
            var lower = name.ToLowerInvariant();
            result[lower] = lower == "authorization" ? MaskAuthorization(values.ToString()) : values.ToString();
        }
        return result;
    }

    /// <summary>"Bearer &lt;jwt claims: a,b,c&gt;": the scheme, that it is a JWT, and its claim names, never a value.</summary>
    public static string MaskAuthorization(string value)
    {
        if (!value.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return value.Length == 0 ? "" : "<not Bearer>";
        }
        var token = value["Bearer ".Length..].Trim();
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return "Bearer <not a jwt>";
        }
        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
            var claims = JsonNode.Parse(Convert.FromBase64String(payload))!.AsObject().Select(c => c.Key).Order(StringComparer.Ordinal);
            return $"Bearer <jwt claims: {string.Join(",", claims)}>";
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException)
        {
            return "Bearer <jwt, payload unreadable>";
        }
    }

    /// <summary>What the body is and its decoded content: JSON when it is JSON (after gunzip), parts for multipart, else text or a length.</summary>
    private static (string Kind, JsonNode? Body) DecodeBody(IHeaderDictionary headers, byte[] raw)
    {
        if (raw.Length == 0)
        {
            return ("empty", null);
        }
        var kind = "";
        var bytes = raw;
        if (headers.ContentEncoding.ToString() == "gzip" || (raw.Length > 2 && raw[0] == 0x1f && raw[1] == 0x8b))
        {
            try
            {
                using var output = new MemoryStream();
                using (var unzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress))
                {
                    unzip.CopyTo(output);
                }
                bytes = output.ToArray();
                kind = "gzip+";
            }
            catch (InvalidDataException)
            {
                return ("not-gzip", raw.Length);
            }
        }
        var contentType = headers.ContentType.ToString();
        if (contentType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase)
            && MediaTypeHeaderValue.TryParse(contentType, out var media) && media.Boundary.HasValue)
        {
            return (kind + "multipart", Multipart(bytes, HeaderUtilities.RemoveQuotes(media.Boundary).ToString()));
        }
        return (kind + Content(bytes, out var body), body);
    }

    private static string Content(byte[] bytes, out JsonNode? body)
    {
        try
        {
            body = JsonNode.Parse(bytes);
            return "json";
        }
        catch (JsonException)
        {
            var text = Encoding.UTF8.GetString(bytes);
            body = text.Length <= 4096 ? text : text[..4096] + $"…({text.Length} chars)";
            return "text";
        }
    }

    private static JsonArray Multipart(byte[] bytes, string boundary)
    {
        var parts = new JsonArray();
        var text = Encoding.Latin1.GetString(bytes);
        foreach (var section in text.Split("--" + boundary).Skip(1))
        {
            if (section.StartsWith("--", StringComparison.Ordinal))
            {
                break;
            }
            var split = section.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (split < 0)
            {
                continue;
            }
            var head = section[..split].Trim();
            var content = Encoding.Latin1.GetBytes(section[(split + 4)..].TrimEnd('\r', '\n'));
            var part = new JsonObject();
            foreach (var headerLine in head.Split("\r\n"))
            {
                var colon = headerLine.IndexOf(':');
                if (colon > 0)
                {
                    part[headerLine[..colon].Trim().ToLowerInvariant()] = headerLine[(colon + 1)..].Trim();
                }
            }
            if (content.Length > 2 && content[0] == 0x1f && content[1] == 0x8b)
            {
                using var output = new MemoryStream();
                using (var unzip = new GZipStream(new MemoryStream(content), CompressionMode.Decompress))
                {
                    unzip.CopyTo(output);
                }
                content = output.ToArray();
                part["gzip"] = true;
            }
            part["bytes"] = content.Length;
            part["kind"] = Content(content, out var body);
            part["body"] = body;
            parts.Add(part);
        }
        return parts;
    }
}
