using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Sealights.Images.Cli.Registry;

/// <summary>
/// Answers a registry's 401 challenge (distribution spec, "token authentication"): Bearer → a
/// token from the challenge's realm for its service and scope, asked anonymously or with the
/// host's Docker credentials (Basic, or an OAuth2 refresh token for identity tokens); Basic →
/// the credentials themselves. Authorizations are kept per registry and repository.
/// </summary>
public sealed class RegistryAuthenticator(HttpClient http, DockerCredentials credentials)
{
    private readonly Dictionary<string, AuthenticationHeaderValue> _authorizations = new(StringComparer.Ordinal);

    public AuthenticationHeaderValue? Cached(ImageReference image)
    {
        lock (_authorizations)
        {
            return _authorizations.TryGetValue(Key(image), out var value) ? value : null;
        }
    }

    public async Task<AuthenticationHeaderValue> AuthorizeAsync(ImageReference image, IReadOnlyList<AuthChallenge> challenges, CancellationToken cancellationToken)
    {
        var challenge = challenges.FirstOrDefault(c => c.IsBearer || c.IsBasic)
            ?? throw new RegistryException($"{image.Registry} answered 401 without a Bearer or Basic challenge ({string.Join(", ", challenges.Select(c => c.Scheme))})");
        var credential = await credentials.ForRegistryAsync(image.Registry, cancellationToken);
        AuthenticationHeaderValue authorization;
        if (challenge.IsBasic)
        {
            if (credential is null or { IdentityToken: true })
            {
                throw new RegistryException(MissingCredentials(image));
            }
            authorization = Basic(credential);
        }
        else
        {
            authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(image, challenge, credential, cancellationToken));
        }
        lock (_authorizations)
        {
            _authorizations[Key(image)] = authorization;
        }
        return authorization;
    }

    /// <summary>Why a request was still refused after authorizing.</summary>
    public async Task<string> RefusedAsync(ImageReference image, CancellationToken cancellationToken) =>
        await credentials.ForRegistryAsync(image.Registry, cancellationToken) is { } credential
            ? $"{image.Registry} refused the credentials from {credential.Source} for {image.Repository} (401)"
            : MissingCredentials(image);

    private async Task<string> TokenAsync(ImageReference image, AuthChallenge challenge, RegistryCredential? credential, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(challenge["realm"], UriKind.Absolute, out var realm) || realm.Scheme is not ("https" or "http"))
        {
            throw new RegistryException($"{image.Registry}'s Bearer challenge has no usable realm ('{challenge["realm"]}')");
        }
        // Credentials go to a token server over TLS only, unless it is on loopback (as plain-HTTP registries are).
        if (credential is not null && realm.Scheme == "http" && !RegistryAccess.IsLoopback(realm.Authority))
        {
            throw new RegistryException($"{image.Registry}'s token server {realm.GetLeftPart(UriPartial.Path)} is plain HTTP; credentials are not sent there");
        }
        var service = challenge["service"];
        var scope = challenge["scope"] ?? $"repository:{image.Repository}:pull";
        using var request = credential is { IdentityToken: true }
            ? RefreshTokenRequest(realm, service, scope, credential)
            : TokenRequest(realm, service, scope, credential);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new RegistryException($"cannot reach {image.Registry}'s token server {realm.GetLeftPart(UriPartial.Path)}: {e.InnerException?.Message ?? e.Message}");
        }
        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new RegistryException(credential is null
                    ? MissingCredentials(image)
                    : $"{image.Registry}'s token server refused the credentials from {credential.Source} ({(int)response.StatusCode})");
            }
            if (!response.IsSuccessStatusCode)
            {
                throw new RegistryException($"{image.Registry}'s token server answered {(int)response.StatusCode}");
            }
            try
            {
                using var answer = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
                // "token" per the spec; "access_token" is the OAuth2 name some servers use instead.
                foreach (var name in new[] { "token", "access_token" })
                {
                    if (answer.RootElement.TryGetProperty(name, out var token) && token.GetString() is { Length: > 0 } value)
                    {
                        return value;
                    }
                }
            }
            catch (JsonException)
            {
            }
            throw new RegistryException($"{image.Registry}'s token server answered without a token");
        }
    }

    private static HttpRequestMessage TokenRequest(Uri realm, string? service, string scope, RegistryCredential? credential)
    {
        var query = new StringBuilder(realm.Query.Length > 1 ? realm.Query[1..] + "&" : "");
        if (service is not null)
        {
            query.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
        }
        query.Append("scope=").Append(Uri.EscapeDataString(scope));
        var request = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(realm) { Query = query.ToString() }.Uri);
        if (credential is not null)
        {
            request.Headers.Authorization = Basic(credential);
        }
        return request;
    }

    /// <summary>OAuth2 refresh-token grant (what Docker does with an identity token).</summary>
    private static HttpRequestMessage RefreshTokenRequest(Uri realm, string? service, string scope, RegistryCredential credential)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = credential.Secret,
            ["scope"] = scope,
            ["client_id"] = "sl-images",
        };
        if (service is not null)
        {
            form["service"] = service;
        }
        return new HttpRequestMessage(HttpMethod.Post, realm) { Content = new FormUrlEncodedContent(form) };
    }

    private static AuthenticationHeaderValue Basic(RegistryCredential credential) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Secret}")));

    private string MissingCredentials(ImageReference image) =>
        $"{image.Registry} requires credentials and none are configured for it in {credentials.ConfigFile ?? "the Docker config"} (run docker login {image.Registry}, or point DOCKER_CONFIG at a folder whose config.json has them)";

    private static string Key(ImageReference image) => $"{image.Registry}/{image.Repository}";
}
