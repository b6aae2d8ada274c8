using System.Net.Http.Headers;
using System.Text;

namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>
/// The Lambda Extensions API (<c>http://$AWS_LAMBDA_RUNTIME_API/2020-01-01</c>) as one explicit
/// client: register, next, and the two error calls.
/// </summary>
public sealed class ExtensionsApiClient : IDisposable
{
    private const string NameHeader = "Lambda-Extension-Name";
    private const string IdentifierHeader = "Lambda-Extension-Identifier";

    private readonly HttpClient _http;
    private string? _identifier;

    public ExtensionsApiClient(string runtimeApiAddress)
    {
        // next blocks until the next event, which may be hours away: no client timeout.
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false })
        {
            BaseAddress = new Uri($"http://{runtimeApiAddress}/2020-01-01/extension/"),
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public string? Identifier => _identifier;

    /// <summary>Registers under the extension's file name (Lambda's rule for external extensions).</summary>
    public async Task<string> RegisterAsync(string extensionName, IReadOnlyCollection<string> events, CancellationToken cancellationToken)
    {
        var body = "{\"events\":[" + string.Join(',', events.Select(e => $"\"{e}\"")) + "]}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "register")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(NameHeader, extensionName);
        using var response = await _http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new ExtensionsApiException($"register answered {(int)response.StatusCode}: {Truncate(text)}");
        }
        _identifier = response.Headers.TryGetValues(IdentifierHeader, out var values) ? values.FirstOrDefault() : null;
        return _identifier ?? throw new ExtensionsApiException($"register answered without a {IdentifierHeader} header");
    }

    public async Task<ExtensionEvent> NextAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "event/next");
        request.Headers.Add(IdentifierHeader, RequireIdentifier());
        using var response = await _http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new ExtensionsApiException($"event/next answered {(int)response.StatusCode}: {Truncate(text)}");
        }
        return ExtensionEvent.Parse(text);
    }

    /// <summary>Reports a fatal extension error; Lambda then fails the function. Use only when that is intended.</summary>
    public async Task ReportErrorAsync(string phase, string errorType, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{phase}/error")
        {
            Content = new StringContent("{}", Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.Add(IdentifierHeader, RequireIdentifier());
        request.Headers.Add("Lambda-Extension-Function-Error-Type", errorType);
        using var response = await _http.SendAsync(request, cancellationToken);
    }

    public void Dispose() => _http.Dispose();

    private string RequireIdentifier() => _identifier ?? throw new InvalidOperationException("the extension is not registered");

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";
}

public sealed class ExtensionsApiException(string message) : Exception(message);
