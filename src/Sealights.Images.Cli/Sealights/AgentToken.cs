using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace Sealights.Images.Cli.Sealights;

/// <summary>
/// A Sealights agent token, checked as Sealights' own agents check it before any request: a JWT
/// (signature not verified: the backend's business) whose payload has <c>subject</c>,
/// <c>x-sl-server</c> (http/https) and <c>x-sl-role</c> = <c>agent</c>. The raw value never
/// leaves this class except as the Authorization header's value.
/// </summary>
public sealed class AgentToken
{
    private readonly string _value;

    private AgentToken(string value, Uri server, string subject)
    {
        _value = value;
        Server = server;
        Subject = subject;
    }

    /// <summary>The backend base address (<c>x-sl-server</c>), e.g. https://acme.sealights.co/api.</summary>
    public Uri Server { get; }

    /// <summary>The <c>subject</c> claim (<c>customerId@…</c>).</summary>
    public string Subject { get; }

    /// <summary>The customer id: the subject up to its first <c>@</c>.</summary>
    public string CustomerId => Subject.Split('@')[0];

    /// <summary>The Authorization header's value.</summary>
    public string BearerValue => "Bearer " + _value;

    public override string ToString() => "AgentToken(redacted)";

    /// <summary>Parses and checks a token; on failure says why without quoting any part of it.</summary>
    public static bool TryParse(string? raw, [NotNullWhen(true)] out AgentToken? token, [NotNullWhen(false)] out string? problem)
    {
        token = null;
        var value = raw?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            problem = "the token is empty";
            return false;
        }
        var parts = value.Split('.');
        if (parts.Length != 3 || parts.Any(string.IsNullOrEmpty))
        {
            problem = $"the token is not a JWT (expected 3 dot-separated parts, found {parts.Length})";
            return false;
        }
        JsonElement claims;
        try
        {
            using var document = JsonDocument.Parse(DecodeBase64Url(parts[1]));
            claims = document.RootElement.Clone();
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            problem = "the token's payload is not base64url-encoded JSON";
            return false;
        }
        if (claims.ValueKind != JsonValueKind.Object)
        {
            problem = "the token's payload is not a JSON object";
            return false;
        }
        var role = Claim(claims, "x-sl-role");
        if (role is null)
        {
            problem = "the token has no role (claim x-sl-role): use an agent token from Sealights' settings";
            return false;
        }
        if (role != "agent")
        {
            problem = $"the token's role is '{role}', not 'agent': use an agent token from Sealights' settings";
            return false;
        }
        var subject = Claim(claims, "subject");
        if (string.IsNullOrEmpty(subject))
        {
            problem = "the token has no customer (claim subject)";
            return false;
        }
        if (!Uri.TryCreate(Claim(claims, "x-sl-server"), UriKind.Absolute, out var server)
            || (server.Scheme != Uri.UriSchemeHttps && server.Scheme != Uri.UriSchemeHttp))
        {
            problem = "the token has no usable server address (claim x-sl-server, http or https)";
            return false;
        }
        token = new AgentToken(value, server, subject);
        problem = null;
        return true;
    }

    private static string? Claim(JsonElement claims, string name) =>
        claims.TryGetProperty(name, out var claim) && claim.ValueKind == JsonValueKind.String ? claim.GetString() : null;

    private static byte[] DecodeBase64Url(string text)
    {
        var builder = new StringBuilder(text.Length + 3).Append(text.Replace('-', '+').Replace('_', '/'));
        while (builder.Length % 4 != 0)
        {
            builder.Append('=');
        }
        return Convert.FromBase64String(builder.ToString());
    }
}
