using System.Diagnostics.Tracing;

namespace Sealights.Coverage.Probes;

/// <summary>
/// Ends each invocation's hits where the function's own runtime client ends the invocation: when
/// it asks the Lambda Runtime API for the next one (<c>GET /2018-06-01/runtime/invocation/next</c>).
/// An in-process listener on the HTTP client's telemetry (<c>System.Net.Http</c>, event
/// <c>RequestStart</c>, written synchronously on the requesting thread before the request leaves)
/// harvests there, so nothing the invocation ran can fall after it and nothing of the next one
/// before it; the request id comes from the invocation's <c>…/response</c> (or <c>…/error</c>)
/// request just before. Telemetry events change nothing in the requests (unlike a
/// <c>DiagnosticListener</c>, which would add trace headers to every request the function makes).
/// </summary>
internal sealed class RuntimeApiBoundary : EventListener
{
    private const string HttpSourceName = "System.Net.Http";
    private const string RequestStartEvent = "RequestStart";
    private const string InvocationPath = "/2018-06-01/runtime/invocation/";
    private const string NextPath = InvocationPath + "next";

    private static readonly object ArmLock = new();
    private static RuntimeApiBoundary? _armed;
    // Set before the listener exists: EventListener's constructor already calls OnEventSourceCreated.
    private static (string Host, int Port, CoverageEventSource Source)? _target;

    // The invocation whose response (or error) the runtime client posted last: the next GET next ends it.
    private string _requestId = "";

    private RuntimeApiBoundary()
    {
    }

    /// <summary>Whether the boundary watches the runtime client's requests (armed once per process).</summary>
    public static bool IsArmed => Volatile.Read(ref _armed) is not null;

    /// <summary>
    /// The Runtime API address the boundary watches (<c>AWS_LAMBDA_RUNTIME_API</c>), or null with
    /// <paramref name="problem"/> saying why there is none.
    /// </summary>
    public static (string Host, int Port, string Text)? RuntimeApi(out string problem)
    {
        var api = Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API")?.Trim() ?? "";
        var colon = api.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(api.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port))
        {
            problem = $"AWS_LAMBDA_RUNTIME_API is '{api}', not host:port";
            return null;
        }

        problem = "";
        return (api[..colon], port, api);
    }

    /// <summary>
    /// Starts listening, once per process. Throws <see cref="InvalidOperationException"/> when called
    /// inside another listener's callback (the runtime refuses to create a listener there).
    /// </summary>
    public static void Arm(CoverageEventSource source, (string Host, int Port, string Text) api)
    {
        lock (ArmLock)
        {
            if (_armed is null)
            {
                _target = (api.Host, api.Port, source);
                _armed = new RuntimeApiBoundary();
            }
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == HttpSourceName)
        {
            // RequestStart is Informational; the source has no keywords worth filtering on.
            EnableEvents(eventSource, EventLevel.Informational);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        try
        {
            if (eventData.EventName != RequestStartEvent || _target is not { } target
                || eventData.Payload is not { Count: >= 4 } payload
                || payload[3] is not string path || !path.StartsWith(InvocationPath, StringComparison.Ordinal)
                || payload[1] is not string host || payload[2] is not int port
                || port != target.Port || !string.Equals(host, target.Host, StringComparison.OrdinalIgnoreCase))
            {
                return;
            }

            if (path == NextPath)
            {
                target.Source.HarvestAtBoundary(_requestId);
                _requestId = "";
            }
            else if (RequestIdOf(path) is { } requestId)
            {
                _requestId = requestId;
            }
        }
        catch
        {
            // Never into the function's request: this invocation's hits then go with the next one.
        }
    }

    // "/2018-06-01/runtime/invocation/{id}/response" or ".../error" → id (as the client escaped it).
    private static string? RequestIdOf(string path)
    {
        var rest = path.AsSpan(InvocationPath.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0)
        {
            return null;
        }

        var what = rest[(slash + 1)..];
        return what is "response" or "error" ? Uri.UnescapeDataString(rest[..slash].ToString()) : null;
    }
}
