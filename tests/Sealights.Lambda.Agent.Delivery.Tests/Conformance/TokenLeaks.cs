namespace Sealights.Lambda.Agent.Delivery.Tests.Conformance;

/// <summary>
/// Where a token shows in what an agent sent (the backend's recordings) or logged. The backend
/// replaces any JWT outside the Authorization header with "&lt;jwt redacted&gt;" before it records a
/// line, so that marker in a recording is a leak it hid; the raw token, its claims part and its
/// signature are looked for as well (a token cut or re-encoded escapes the backend's pattern).
/// </summary>
public static class TokenLeaks
{
    public static IReadOnlyList<string> Find(string token, string recorded, string log)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            throw new ArgumentException("not a JWT", nameof(token));
        }
        var found = new List<string>();
        if (recorded.Contains("<jwt redacted>", StringComparison.Ordinal))
        {
            found.Add("a JWT outside the Authorization header of a request (the backend redacted it)");
        }
        foreach (var (what, text) in new[] { ("requests", recorded), ("log", log) })
        {
            foreach (var (piece, name) in new[] { (token, "the token"), (parts[1], "its claims part"), (parts[2], "its signature") })
            {
                if (text.Contains(piece, StringComparison.Ordinal))
                {
                    found.Add($"{name} in the {what}");
                }
            }
        }
        return found;
    }
}
