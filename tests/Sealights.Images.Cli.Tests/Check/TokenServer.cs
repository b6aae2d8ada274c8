using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace Sealights.Images.Cli.Tests.Check;

/// <summary>One token request as the server saw it.</summary>
public sealed record TokenRequest(string? User, string? Service, IReadOnlyList<string> Scopes);

/// <summary>
/// A token server for the registry's <c>auth.token</c> mode (the flow public.ecr.aws and Docker
/// Hub use), on loopback over HTTP: it answers <c>GET /token?service=…&amp;scope=…</c> with a JWT
/// signed (ES256) by a key whose self-signed certificate is the registry's <c>rootcertbundle</c>
/// (sent in the token's <c>x5c</c>). Anonymous callers get pull access to repositories outside
/// <c>private/</c>, as a public registry grants it; <see cref="User"/> with the right password gets
/// what it asks for; a wrong password is a 401.
/// </summary>
public sealed class TokenServer : IAsyncDisposable
{
    public const string User = "sl-token-user";
    public const string Service = "sl-check-registry";
    public const string Issuer = "sl-check-token-server";

    private readonly HttpListener _listener = new();
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _certificate;
    private readonly List<TokenRequest> _requests = [];
    private readonly Task _serving;

    public TokenServer(int port, string directory)
    {
        Port = port;
        Password = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        var request = new CertificateRequest($"CN={Issuer}", _key, HashAlgorithmName.SHA256);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        SigningCertificateFile = Path.Combine(directory, "token-signing.crt");
        File.WriteAllText(SigningCertificateFile, _certificate.ExportCertificatePem() + "\n");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Password { get; }

    public string Realm => $"http://127.0.0.1:{Port}/token";

    /// <summary>The PEM the registry verifies tokens with (its rootcertbundle).</summary>
    public string SigningCertificateFile { get; }

    public IReadOnlyList<TokenRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>A token for the given scopes, as <see cref="User"/> (for pushing test images).</summary>
    public string Issue(params string[] scopes) => Sign(scopes.Select(Parse).ToList());

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            Answer(context);
        }
    }

    /// <summary>The OAuth2 refresh token <c>docker login</c> stores as <c>identitytoken</c> for this server.</summary>
    public string IdentityToken { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    private void Answer(HttpListenerContext context)
    {
        if (context.Request.HttpMethod == "POST")
        {
            AnswerRefreshToken(context);
            return;
        }
        using var response = context.Response;
        var query = context.Request.QueryString;
        var scopes = query.GetValues("scope") ?? [];
        var user = BasicUser(context.Request.Headers["Authorization"], out var passwordOk);
        lock (_requests)
        {
            _requests.Add(new TokenRequest(user, query["service"], scopes));
        }
        if (context.Request.Url?.AbsolutePath != "/token" || query["service"] != Service)
        {
            response.StatusCode = 400;
            return;
        }
        if (user is not null && !passwordOk)
        {
            response.StatusCode = 401;
            return;
        }
        var granted = scopes.Select(Parse)
            .Select(s => user is not null ? s : s with { Actions = s.Name.StartsWith("private/", StringComparison.Ordinal) ? [] : s.Actions.Intersect(["pull"]).ToArray() })
            .ToList();
        var token = Sign(granted);
        var body = Encoding.UTF8.GetBytes(new JsonObject { ["token"] = token, ["expires_in"] = 300 }.ToJsonString());
        response.ContentType = "application/json";
        response.OutputStream.Write(body);
    }

    /// <summary>The OAuth2 form (grant_type=refresh_token), answered with <c>access_token</c> as OAuth2 servers name it.</summary>
    private void AnswerRefreshToken(HttpListenerContext context)
    {
        using var response = context.Response;
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        var form = System.Web.HttpUtility.ParseQueryString(reader.ReadToEnd());
        var scopes = (form.GetValues("scope") ?? []).SelectMany(s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        var valid = form["grant_type"] == "refresh_token" && form["refresh_token"] == IdentityToken && form["service"] == Service;
        lock (_requests)
        {
            _requests.Add(new TokenRequest(valid ? "identity-token" : "invalid-identity-token", form["service"], scopes));
        }
        if (!valid)
        {
            response.StatusCode = 401;
            return;
        }
        var body = Encoding.UTF8.GetBytes(new JsonObject { ["access_token"] = Sign(scopes.Select(Parse).ToList()), ["expires_in"] = 300 }.ToJsonString());
        response.ContentType = "application/json";
        response.OutputStream.Write(body);
    }

    private string? BasicUser(string? header, out bool passwordOk)
    {
        passwordOk = false;
        if (header is null || !header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            return null;
        }
        var text = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..]));
        var colon = text.IndexOf(':');
        passwordOk = text[..colon] == User && text[(colon + 1)..] == Password;
        return text[..colon];
    }

    private sealed record Scope(string Type, string Name, string[] Actions);

    private static Scope Parse(string scope)
    {
        var parts = scope.Split(':');
        return new Scope(parts[0], string.Join(':', parts[1..^1]), parts[^1].Split(','));
    }

    private string Sign(IReadOnlyList<Scope> access)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new JsonObject { ["typ"] = "JWT", ["alg"] = "ES256", ["x5c"] = new JsonArray(Convert.ToBase64String(_certificate.RawData)) };
        var accessArray = new JsonArray();
        foreach (var scope in access)
        {
            accessArray.Add(new JsonObject { ["type"] = scope.Type, ["name"] = scope.Name, ["actions"] = new JsonArray(scope.Actions.Select(a => (JsonNode)a!).ToArray()) });
        }
        var claims = new JsonObject
        {
            ["iss"] = Issuer,
            ["sub"] = User,
            ["aud"] = Service,
            ["exp"] = now + 300,
            ["nbf"] = now - 10,
            ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = accessArray,
        };
        var signingInput = $"{Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString()))}.{Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()))}";
        // JWS ES256: the raw r||s signature (IEEE P1363, .NET's default format).
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256);
        return $"{signingInput}.{Base64Url(signature)}";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _serving;
        _key.Dispose();
        _certificate.Dispose();
    }
}
