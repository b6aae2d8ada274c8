using System.Text.Json;
using Amazon.Lambda.Core;

namespace Sealights.Lambda.LocalRuntime;

/// <summary><c>Lambda-Runtime-Cognito-Identity</c>: <c>{"cognitoIdentityId", "cognitoIdentityPoolId"}</c>.</summary>
internal sealed record CognitoIdentityHeader(string IdentityId, string IdentityPoolId) : ICognitoIdentity
{
    /// <summary>Null when the caller sent none (as on Lambda) or sent something unreadable.</summary>
    public static CognitoIdentityHeader? Parse(string? json)
    {
        if (ReadObject(json) is not { } root)
        {
            return null;
        }
        return new CognitoIdentityHeader(Text(root, "cognitoIdentityId"), Text(root, "cognitoIdentityPoolId"));
    }

    internal static JsonElement? ReadObject(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
}

/// <summary><c>Lambda-Runtime-Client-Context</c>: <c>{"client": {...}, "custom": {...}, "env": {...}}</c> from a mobile SDK.</summary>
internal sealed record ClientContextHeader(IClientApplication Client, IDictionary<string, string> Custom, IDictionary<string, string> Environment)
    : IClientContext
{
    public static ClientContextHeader? Parse(string? json)
    {
        if (CognitoIdentityHeader.ReadObject(json) is not { } root)
        {
            return null;
        }
        var client = root.TryGetProperty("client", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
        return new ClientContextHeader(
            new ClientApplication(
                Text(client, "app_package_name"),
                Text(client, "app_title"),
                Text(client, "app_version_code"),
                Text(client, "app_version_name"),
                Text(client, "installation_id")),
            Map(root, "custom"),
            Map(root, "env"));
    }

    private static string Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object ? CognitoIdentityHeader.Text(element, name) : "";

    private static Dictionary<string, string> Map(JsonElement root, string name)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.TryGetProperty(name, out var values) && values.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in values.EnumerateObject())
            {
                map[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
            }
        }
        return map;
    }

    private sealed record ClientApplication(string AppPackageName, string AppTitle, string AppVersionCode, string AppVersionName, string InstallationId)
        : IClientApplication;
}
