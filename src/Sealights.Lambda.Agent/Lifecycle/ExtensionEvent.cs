using System.Text.Json;

namespace Sealights.Lambda.Agent.Lifecycle;

public enum ExtensionEventType
{
    Unknown,
    Invoke,
    Shutdown,
}

/// <summary>
/// An event from <c>GET /extension/event/next</c>. Parsed leniently: a malformed payload is an
/// Unknown event to log and skip, never an exception that could end the extension.
/// </summary>
public sealed record ExtensionEvent(
    ExtensionEventType Type,
    string? RequestId,
    DateTimeOffset? Deadline,
    string? ShutdownReason,
    string? Problem)
{
    public static ExtensionEvent Parse(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Malformed("not a JSON object");
            }
            var typeName = String(root, "eventType");
            // The documented values are upper case; AWS's emulator has sent other casings.
            var type = typeName?.ToUpperInvariant() switch
            {
                "INVOKE" => ExtensionEventType.Invoke,
                "SHUTDOWN" => ExtensionEventType.Shutdown,
                _ => ExtensionEventType.Unknown,
            };
            // A deadline that is not a number (TryGetInt64 would throw) or is outside DateTimeOffset's
            // range (FromUnixTimeMilliseconds would throw) is none.
            DateTimeOffset? deadline = root.TryGetProperty("deadlineMs", out var deadlineMs)
                && deadlineMs.ValueKind == JsonValueKind.Number && deadlineMs.TryGetInt64(out var ms)
                && ms >= DateTimeOffset.MinValue.ToUnixTimeMilliseconds() && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
                ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
                : null;
            return new ExtensionEvent(
                type,
                String(root, "requestId"),
                deadline,
                String(root, "shutdownReason"),
                type == ExtensionEventType.Unknown ? $"unknown eventType '{Truncate(typeName)}'" : null);
        }
        catch (JsonException)
        {
            return Malformed("not valid JSON");
        }
    }

    private static ExtensionEvent Malformed(string problem) => new(ExtensionEventType.Unknown, null, null, null, problem);

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string Truncate(string? value) => value is null ? "" : value.Length <= 40 ? value : value[..40] + "…";
}
