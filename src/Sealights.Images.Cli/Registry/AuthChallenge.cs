using System.Net.Http.Headers;
using System.Text;

namespace Sealights.Images.Cli.Registry;

/// <summary>
/// One <c>WWW-Authenticate</c> challenge: <c>Bearer realm="…",service="…",scope="…"</c> (the
/// distribution spec's token flow) or <c>Basic realm="…"</c>. Quoted values may hold commas
/// (<c>scope="repository:a:pull,push"</c>).
/// </summary>
public sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);

    public bool IsBasic => Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);

    public string? this[string name] => Parameters.TryGetValue(name, out var value) ? value : null;

    /// <summary>The challenges of a 401, Bearer first (it is what registries prefer when they offer both).</summary>
    public static IReadOnlyList<AuthChallenge> From(HttpResponseHeaders headers) =>
        headers.WwwAuthenticate.Select(h => new AuthChallenge(h.Scheme, ParseParameters(h.Parameter)))
            .OrderBy(c => c.IsBearer ? 0 : c.IsBasic ? 1 : 2)
            .ToList();

    public static IReadOnlyDictionary<string, string> ParseParameters(string? text)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        var s = text ?? "";
        while (i < s.Length)
        {
            while (i < s.Length && (s[i] == ',' || char.IsWhiteSpace(s[i])))
            {
                i++;
            }
            var nameStart = i;
            while (i < s.Length && s[i] != '=' && s[i] != ',')
            {
                i++;
            }
            var name = s[nameStart..i].Trim();
            if (i >= s.Length || s[i] != '=')
            {
                continue;
            }
            i++;
            var value = new StringBuilder();
            if (i < s.Length && s[i] == '"')
            {
                for (i++; i < s.Length && s[i] != '"'; i++)
                {
                    if (s[i] == '\\' && i + 1 < s.Length)
                    {
                        i++;
                    }
                    value.Append(s[i]);
                }
                i++;
            }
            else
            {
                while (i < s.Length && s[i] != ',')
                {
                    value.Append(s[i++]);
                }
            }
            if (name.Length > 0)
            {
                result[name] = value.ToString().Trim();
            }
        }
        return result;
    }
}
