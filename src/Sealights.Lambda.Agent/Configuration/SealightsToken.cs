using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace Sealights.Lambda.Agent.Configuration;

/// <summary>
/// The Sealights agent token: a JWT whose payload names the backend (<c>x-sl-server</c>) and the
/// customer (<c>subject</c>). The signature is the backend's business; the agent only reads
/// claims. The raw value is kept private and never formatted into text.
/// </summary>
public sealed class SealightsToken
{
    private readonly string _value;

    private SealightsToken(string value, Uri? server, string? subject)
    {
        _value = value;
        Server = server;
        Subject = subject;
    }

    /// <summary>The backend base address from the <c>x-sl-server</c> claim, if present and valid.</summary>
    public Uri? Server { get; }

    public string? Subject { get; }

    /// <summary>The value for an Authorization header; the only way the raw token leaves this class.</summary>
    public string BearerValue => "Bearer " + _value;

    public override string ToString() => "SealightsToken(redacted)";

    /// <summary>Parses a token; on failure says why without quoting any part of it.</summary>
    public static bool TryParse(string? raw, [NotNullWhen(true)] out SealightsToken? token, [NotNullWhen(false)] out string? problem)
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
        byte[] payload;
        try
        {
            payload = DecodeBase64Url(parts[1]);
        }
        catch (FormatException)
        {
            problem = "the token's payload is not base64url";
            return false;
        }
        try
        {
            using var document = JsonDocument.Parse(payload);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                problem = "the token's payload is not a JSON object";
                return false;
            }
            Uri? server = null;
            if (document.RootElement.TryGetProperty("x-sl-server", out var serverClaim)
                && serverClaim.ValueKind == JsonValueKind.String
                && Uri.TryCreate(serverClaim.GetString(), UriKind.Absolute, out var parsed)
                && (parsed.Scheme == Uri.UriSchemeHttps || parsed.Scheme == Uri.UriSchemeHttp))
            {
                server = parsed;
            }
            var subject = document.RootElement.TryGetProperty("subject", out var subjectClaim) && subjectClaim.ValueKind == JsonValueKind.String
                ? subjectClaim.GetString()
                : null;
            token = new SealightsToken(value, server, subject);
            problem = null;
            return true;
        }
        catch (JsonException)
        {
            problem = "the token's payload is not valid JSON";
            return false;
        }
    }

    private static byte[] DecodeBase64Url(string text)
    {
        var builder = new StringBuilder(text.Length + 3);
        builder.Append(text.Replace('-', '+').Replace('_', '/'));
        while (builder.Length % 4 != 0)
        {
            builder.Append('=');
        }
        return Convert.FromBase64String(builder.ToString());
    }
}
