using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace Sealights.Coverage.Tokens;

/// <summary>
/// The Sealights agent token: a JWT whose payload names the backend (<c>x-sl-server</c>), the
/// customer (<c>subject</c>) and the role (<c>x-sl-role</c>). The signature is the backend's
/// business; the agent only reads claims, and refuses a token without those three or whose role
/// is not exactly <c>agent</c>, as Sealights' own agents do (slnodejs 6.1.1133 makes no request
/// at all with such a token). The raw value is kept private and never formatted into text.
/// Shared by the agent and <c>sl-images</c>' build-side verbs: one rule for both.
/// </summary>
public sealed class SealightsToken
{
    private readonly string _value;

    /// <summary>The only role an agent token may carry.</summary>
    public const string AgentRole = "agent";

    private SealightsToken(string value, Uri server, string subject)
    {
        _value = value;
        Server = server;
        Subject = subject;
    }

    /// <summary>The backend base address from the <c>x-sl-server</c> claim, e.g. https://acme.sealights.co/api.</summary>
    public Uri Server { get; }

    /// <summary>The <c>subject</c> claim (<c>customerId@…</c>).</summary>
    public string Subject { get; }

    /// <summary>The customer id, as Sealights' agents take it: <c>subject</c> up to its first <c>@</c>.</summary>
    public string CustomerId => Subject.IndexOf('@') is var at && at >= 0 ? Subject[..at] : Subject;

    /// <summary>The value for an Authorization header; the only way the raw token leaves this class.</summary>
    public string BearerValue => "Bearer " + _value;

    /// <summary>Never the token: a token that reaches a log line by accident says only this.</summary>
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
        // JsonDocument checks strings' UTF-8 only when they are read (GetString throws then).
        if (!System.Text.Unicode.Utf8.IsValid(payload))
        {
            problem = "the token's payload is not UTF-8 text";
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
            // The claims are named in the problem, never their values (nor the token).
            var root = document.RootElement;
            if (!root.TryGetProperty("subject", out var subjectClaim) || subjectClaim.ValueKind != JsonValueKind.String
                || string.IsNullOrWhiteSpace(subjectClaim.GetString()))
            {
                problem = "the token has no 'subject' claim (Sealights agent tokens name the customer there)";
                return false;
            }
            if (!root.TryGetProperty("x-sl-server", out var serverClaim) || serverClaim.ValueKind != JsonValueKind.String
                || string.IsNullOrWhiteSpace(serverClaim.GetString()))
            {
                problem = "the token has no 'x-sl-server' claim";
                return false;
            }
            if (!Uri.TryCreate(serverClaim.GetString(), UriKind.Absolute, out var server)
                || (server.Scheme != Uri.UriSchemeHttps && server.Scheme != Uri.UriSchemeHttp))
            {
                problem = "the token's 'x-sl-server' claim is not an http(s) URL";
                return false;
            }
            if (!root.TryGetProperty("x-sl-role", out var roleClaim) || roleClaim.ValueKind != JsonValueKind.String)
            {
                problem = $"the token has no 'x-sl-role' claim (an agent token has '{AgentRole}')";
                return false;
            }
            if (roleClaim.GetString() != AgentRole)
            {
                problem = $"the token's 'x-sl-role' claim is not '{AgentRole}': it is not an agent token";
                return false;
            }
            var subject = subjectClaim.GetString()!;
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
