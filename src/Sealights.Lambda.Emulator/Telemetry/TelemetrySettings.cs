using Sealights.Lambda.Emulator.Json;

namespace Sealights.Lambda.Emulator.Telemetry;

/// <summary>A validated Telemetry API subscription.</summary>
internal sealed record TelemetrySettings(string SchemaVersion, IReadOnlyList<string> Types, int MaxItems, int MaxBytes, int TimeoutMs, Uri Destination)
{
    public static readonly IReadOnlyList<string> SchemaVersions = ["2022-07-01", "2022-12-13"];
    public static readonly IReadOnlyList<string> KnownTypes = ["platform", "function", "extension"];

    /// <summary>Hosts a subscriber may listen on: all are this machine (the sandbox's loopback).</summary>
    public static readonly IReadOnlyList<string> LocalHosts = ["sandbox.localdomain", "localhost", "127.0.0.1"];

    public bool WantsPlatform => Types.Contains("platform");

    /// <summary>Validates as Lambda documents it; returns the reason when invalid.</summary>
    public static TelemetrySettings? Validate(TelemetrySubscribeRequest request, out string? error)
    {
        TelemetrySettings? Invalid(string message, out string? reason)
        {
            reason = message;
            return null;
        }
        if (request.SchemaVersion is not { } schema || !SchemaVersions.Contains(schema))
        {
            return Invalid($"schemaVersion '{request.SchemaVersion}' is not supported; use one of {string.Join(", ", SchemaVersions)}", out error);
        }
        if (request.Types is not { Length: > 0 } types)
        {
            return Invalid("types must name at least one of platform, function, extension", out error);
        }
        if (types.FirstOrDefault(t => !KnownTypes.Contains(t)) is { } unknown)
        {
            return Invalid($"unknown telemetry type '{unknown}'; valid: platform, function, extension", out error);
        }
        var maxItems = request.Buffering?.MaxItems ?? 1000;
        var maxBytes = request.Buffering?.MaxBytes ?? 262144;
        var timeoutMs = request.Buffering?.TimeoutMs ?? 1000;
        if (maxItems is < 1000 or > 10000)
        {
            return Invalid($"buffering.maxItems {maxItems} is outside 1000-10000", out error);
        }
        if (maxBytes is < 262144 or > 1048576)
        {
            return Invalid($"buffering.maxBytes {maxBytes} is outside 262144-1048576", out error);
        }
        if (timeoutMs is < 25 or > 30000)
        {
            return Invalid($"buffering.timeoutMs {timeoutMs} is outside 25-30000", out error);
        }
        if (request.Destination is not { } destination)
        {
            return Invalid("destination is required", out error);
        }
        if (!string.Equals(destination.Protocol, "HTTP", StringComparison.OrdinalIgnoreCase))
        {
            return Invalid($"destination.protocol '{destination.Protocol}' is not supported by this emulator; use HTTP", out error);
        }
        if (!Uri.TryCreate(destination.Uri, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
        {
            return Invalid($"destination.URI '{destination.Uri}' is not an absolute http:// URI", out error);
        }
        if (!LocalHosts.Contains(uri.Host, StringComparer.OrdinalIgnoreCase))
        {
            return Invalid($"destination.URI host '{uri.Host}' must be sandbox.localdomain", out error);
        }
        error = null;
        return new TelemetrySettings(schema, types, maxItems, maxBytes, timeoutMs, uri);
    }
}
