namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>
/// The Lambda Extensions API (<c>http://$AWS_LAMBDA_RUNTIME_API/2020-01-01</c>) as one explicit
/// client: register, next, and the two error calls. Blocking calls, one at a time, over one
/// loopback connection (<see cref="LoopbackHttpConnection"/>), made by the extension's event
/// loop; next blocks until the next event, which may be hours away, so there is no timeout.
/// Whatever Lambda answers, a call returns or throws <see cref="IOException"/> (a cut, malformed
/// or oversized answer), <see cref="System.Net.Sockets.SocketException"/> or
/// <see cref="ExtensionsApiException"/> (an error status): what the callers catch, e.g. the
/// telemetry subscription, which then falls back to flushing at INVOKE. Fuzzed by the agent's tests.
/// </summary>
public sealed class ExtensionsApiClient : IDisposable
{
    private const string BasePath = "/2020-01-01/extension/";
    private const string NameHeader = "Lambda-Extension-Name";
    private const string IdentifierHeader = "Lambda-Extension-Identifier";

    private readonly LoopbackHttpConnection _connection;
    private string? _identifier;

    public ExtensionsApiClient(string runtimeApiAddress)
    {
        _connection = new LoopbackHttpConnection(runtimeApiAddress);
    }

    public string? Identifier => _identifier;

    /// <summary>Registers under the extension's file name (Lambda's rule for external extensions).</summary>
    public string Register(string extensionName, IReadOnlyCollection<string> events)
    {
        var body = "{\"events\":[" + string.Join(',', events.Select(e => $"\"{e}\"")) + "]}";
        var reply = _connection.Send(
            "POST", BasePath + "register", [(NameHeader, extensionName), ("Content-Type", "application/json")], body);
        if (!reply.IsSuccess)
        {
            throw new ExtensionsApiException($"register answered {reply.Status}: {Truncate(reply.Body)}");
        }
        _identifier = reply.Headers.TryGetValue(IdentifierHeader, out var identifier) && identifier.Length > 0 ? identifier : null;
        return _identifier ?? throw new ExtensionsApiException($"register answered without a {IdentifierHeader} header");
    }

    /// <summary>Continues a registration made by someone else (the launcher) under this identifier.</summary>
    public void UseRegistration(string identifier) => _identifier = identifier;

    public ExtensionEvent Next()
    {
        var reply = _connection.Send("GET", BasePath + "event/next", [(IdentifierHeader, RequireIdentifier())], null);
        if (!reply.IsSuccess)
        {
            throw new ExtensionsApiException($"event/next answered {reply.Status}: {Truncate(reply.Body)}");
        }
        return ExtensionEvent.Parse(reply.Body);
    }

    /// <summary>
    /// Subscribes to the Telemetry API's platform events at <paramref name="destination"/>, with
    /// Lambda's smallest buffering (25 ms) so <c>platform.runtimeDone</c> comes promptly. Returns
    /// null when subscribed, else what was answered (AWS's emulator: 202 <c>Telemetry.NotSupported</c>).
    /// </summary>
    public string? SubscribeToTelemetry(Uri destination)
    {
        var body = "{\"schemaVersion\":\"2022-12-13\",\"types\":[\"platform\"],"
            + "\"buffering\":{\"maxItems\":1000,\"maxBytes\":262144,\"timeoutMs\":25},"
            + $"\"destination\":{{\"protocol\":\"HTTP\",\"URI\":\"{destination}\"}}}}";
        var reply = _connection.Send(
            "PUT", "/2022-07-01/telemetry", [(IdentifierHeader, RequireIdentifier()), ("Content-Type", "application/json")], body);
        return reply.Status == 200 ? null : $"{reply.Status} {Truncate(reply.Body)}";
    }

    /// <summary>Reports a fatal extension error; Lambda then fails the function. Use only when that is intended.</summary>
    public void ReportError(string phase, string errorType)
    {
        _connection.Send(
            "POST",
            $"{BasePath}{phase}/error",
            [(IdentifierHeader, RequireIdentifier()), ("Lambda-Extension-Function-Error-Type", errorType), ("Content-Type", "application/json")],
            "{}");
    }

    public void Dispose() => _connection.Dispose();

    private string RequireIdentifier() => _identifier ?? throw new InvalidOperationException("the extension is not registered");

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";
}

public sealed class ExtensionsApiException(string message) : Exception(message);
