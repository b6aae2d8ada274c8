using System.Text.Json;

namespace Sealights.Lambda.Agent.Delivery;

/// <summary>
/// The answer of the build session's validation, <c>GET {server}/v2/agents/buildsession/{bsid}/</c>:
/// <c>{"buildSessionId","appName","branchName","buildName",…}</c> at the top level (slnodejs reads
/// those four and refuses the bsid without them). The names then go into every request's headers
/// (<see cref="AgentMetadata"/>).
/// </summary>
public sealed record BuildSessionInfo(string? BuildSessionId, string? AppName, string? BranchName, string? BuildName)
{
    /// <summary>Reads the answer; null when it is not a JSON object (a name that is not a string counts as unknown).</summary>
    public static BuildSessionInfo? Parse(ReadOnlySpan<byte> body)
    {
        // JsonDocument checks strings' UTF-8 only when they are read (GetString throws then).
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            return new BuildSessionInfo(Text(root, "buildSessionId"), Text(root, "appName"), Text(root, "branchName"), Text(root, "buildName"));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()
            : null;
}
