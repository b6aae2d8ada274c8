using Sealights.Coverage.Tokens;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sealights.Lambda.Agent.Configuration;

namespace Sealights.Lambda.Agent.Delivery;

/// <summary>
/// THE one place for the Sealights wire protocol: routes, headers, body encoding and the active
/// execution answer. Taken from Sealights' public Node agent, not verified against the service,
/// hence every route is a template that can be replaced by a setting (see Delivery/README.md).
/// The footprints JSON itself is <see cref="Footprints.FootprintsV6"/>'s business.
/// </summary>
public static class SealightsRoutes
{
    /// <summary>
    /// <c>POST {server}/v6/agents/{executionBsid}/footprints/{testStage}/{bsid}/</c> (SL_FOOTPRINTS_ROUTE):
    /// the active execution's build session and test stage first, the agent's own build session
    /// last (Sealights' Node agent does the same when the execution belongs to an integration build).
    /// </summary>
    public const string DefaultFootprintsRoute = "v6/agents/{executionBsid}/footprints/{testStage}/{bsid}/";

    /// <summary><c>POST {collector}/v6/agents/{bsid}/footprints</c> (SL_COLLECTOR_FOOTPRINTS_ROUTE).</summary>
    public const string DefaultCollectorFootprintsRoute = "v6/agents/{bsid}/footprints";

    /// <summary><c>GET {server}/v4/testExecution/{labId}/</c> (SL_EXECUTION_ROUTE).</summary>
    public const string DefaultActiveExecutionRoute = "v4/testExecution/{labId}/";

    public const string LabIdHeader = "x-sl-labId";
    public const string BuildSessionIdHeader = "x-sl-bsid";
    public const string ExecutionIdHeader = "x-sl-executionId";
    public const string AgentIdHeader = "x-sl-agentId";

    /// <summary>Placeholders a route template may use; values are URL-escaped as one path segment.</summary>
    public static readonly IReadOnlyList<string> Placeholders = ["bsid", "labId", "testStage", "agentId", "executionBsid"];

    /// <summary>Execution statuses that mean "not active" (compared case-insensitively); any other status counts as active.</summary>
    public static readonly IReadOnlyList<string> EndedExecutionStatuses = ["ended", "closed", "deleted"];

    /// <summary>An execution about to be deleted (slnodejs stops collecting for it).</summary>
    public const string PendingDeleteStatus = "pendingDelete";

    /// <summary>Why a route template is unusable, or null.</summary>
    public static string? TemplateProblem(string template)
    {
        if (template.Contains("://", StringComparison.Ordinal) || template.StartsWith("//", StringComparison.Ordinal))
        {
            return "must be a path relative to the server or collector address, not a URL";
        }
        if (template.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '?' or '#'))
        {
            return "must be a plain path (no spaces, query or fragment)";
        }
        var rest = template.AsSpan();
        while (true)
        {
            var open = rest.IndexOf('{');
            var close = rest.IndexOf('}');
            if (open < 0 && close < 0)
            {
                return null;
            }
            if (open < 0 || (close >= 0 && close < open))
            {
                return "has an unbalanced '}'";
            }
            var end = rest[(open + 1)..].IndexOf('}');
            if (end < 0 || rest.Slice(open + 1, end).Contains('{'))
            {
                return "has an unbalanced '{'";
            }
            var name = rest.Slice(open + 1, end).ToString();
            if (!Placeholders.Contains(name))
            {
                return $"uses an unknown placeholder {{{name}}} (known: {string.Join(", ", Placeholders.Select(p => "{" + p + "}"))})";
            }
            rest = rest[(open + end + 2)..];
        }
    }

    /// <summary>The footprints route for a batch of <paramref name="execution"/> (null, and ignored, for a collector).</summary>
    public static Uri FootprintsUri(DeliveryOptions options, ActiveExecution? execution) =>
        Expand(options, options.UsesCollector ? options.CollectorFootprintsRoute : options.FootprintsRoute, execution);

    public static Uri ActiveExecutionUri(DeliveryOptions options) => Expand(options, options.ActiveExecutionRoute, execution: null);

    /// <summary>
    /// A footprints POST of batches that belong to <paramref name="execution"/> (its build
    /// session and stage in the route, its id in <c>x-sl-executionId</c>), gzipped, Bearer auth
    /// and the <c>x-sl-*</c> headers, <c>Content-Type: application/octet-stream</c> as slnodejs
    /// sends it to the server. To a collector (<paramref name="execution"/> null):
    /// <c>application/json</c> and no <c>x-sl-executionId</c>, as slnodejs with a collector URL.
    /// </summary>
    public static HttpRequestMessage FootprintsRequest(DeliveryOptions options, SealightsToken token, ActiveExecution? execution, byte[] json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, FootprintsUri(options, execution))
        {
            Content = new ByteArrayContent(Gzip(json)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(options.UsesCollector ? "application/json" : "application/octet-stream");
        request.Content.Headers.ContentEncoding.Add("gzip");
        // Footprints going to an execution name it in sl-metadata too, as slnodejs' always do: a
        // background send between the answer that found it and the next INVOKE (which names it
        // for every request from then on) otherwise went out without it.
        options.Metadata.SawExecution(execution?.ExecutionId);
        AddCommonHeaders(request, options, token);
        if (!options.UsesCollector && execution is not null)
        {
            request.Headers.TryAddWithoutValidation(ExecutionIdHeader, execution.ExecutionId);
        }
        return request;
    }

    /// <summary>The lab's active execution: <c>GET</c> answering <c>{"execution":{executionId, buildSessionId, testStage, status}}</c>.</summary>
    public static HttpRequestMessage ActiveExecutionRequest(DeliveryOptions options, SealightsToken token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, ActiveExecutionUri(options));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        AddCommonHeaders(request, options, token);
        return request;
    }

    /// <summary>
    /// Reads the active execution answer. None (null) when the body has no <c>execution</c>, no
    /// <c>executionId</c>, or an ended status. Throws <see cref="JsonException"/> on a body that is not JSON.
    /// </summary>
    public static ActiveExecution? ParseActiveExecution(ReadOnlySpan<byte> body)
    {
        if (body.Trim(" \t\r\n"u8).Length == 0)
        {
            return null;
        }
        var answer = JsonSerializer.Deserialize(body, ExecutionJsonContext.Default.ExecutionAnswer);
        var execution = answer?.Execution;
        if (execution is null || string.IsNullOrWhiteSpace(execution.ExecutionId))
        {
            return null;
        }
        if (execution.Status is { } status && EndedExecutionStatuses.Contains(status, StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }
        return new ActiveExecution(execution.ExecutionId, execution.BuildSessionId, NullIfBlank(execution.TestStage), execution.Status);
    }

    /// <summary>
    /// The test stage in the route: the active execution's (footprints belong to the stage that has
    /// the open execution), else SL_TEST_STAGE (e.g. with a fixed SL_EXECUTION_ID), else the default.
    /// </summary>
    public static string TestStageFor(DeliveryOptions options, ActiveExecution execution) =>
        execution.TestStage ?? options.TestStage ?? DeliveryOptions.DefaultTestStage;

    /// <summary>The build session the execution belongs to (an integration build's, a component's), else the agent's own.</summary>
    public static string BuildSessionFor(DeliveryOptions options, ActiveExecution execution) =>
        NullIfBlank(execution.BuildSessionId) ?? options.BuildSessionId;

    // ---- Lifecycle calls (LifecycleCalls; Delivery/README.md "Lifecycle calls"). Always to the
    // token's x-sl-server, also with a collector (slnodejs sends only footprints there).

    /// <summary><c>GET {server}/v2/agents/buildsession/{bsid}/</c>: validates the bsid, names app, branch and build.</summary>
    public const string BuildSessionRoute = "v2/agents/buildsession/{bsid}/";

    /// <summary><c>GET {server}/v3/config?…</c>: the remote configuration (query: <see cref="RemoteConfiguration.Query"/>).</summary>
    public const string RemoteConfigurationRoute = "v3/config";

    /// <summary><c>POST {server}/v3/agents/agent-events/</c>: agent events, with <c>x-sl-messageType</c>.</summary>
    public const string AgentEventsRoute = "v3/agents/agent-events/";

    public const string MessageTypeHeader = "x-sl-messageType";

    public static HttpRequestMessage BuildSessionRequest(DeliveryOptions options, SealightsToken token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, ServerUri(token, BuildSessionRoute.Replace("{bsid}", Uri.EscapeDataString(options.BuildSessionId))));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        AddCommonHeaders(request, options, token);
        return request;
    }

    public static HttpRequestMessage RemoteConfigurationRequest(DeliveryOptions options, SealightsToken token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, ServerUri(token, RemoteConfigurationRoute + RemoteConfiguration.Query(options, options.Metadata)));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        AddCommonHeaders(request, options, token);
        return request;
    }

    /// <summary>One agent event: the JSON gzipped, <c>Content-Type: application/json</c>, <c>x-sl-messageType</c> = its code.</summary>
    public static HttpRequestMessage AgentEventRequest(DeliveryOptions options, SealightsToken token, AgentEventType type, byte[] json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, ServerUri(token, AgentEventsRoute))
        {
            Content = new ByteArrayContent(Gzip(json)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Content.Headers.ContentEncoding.Add("gzip");
        AddCommonHeaders(request, options, token);
        if (options.Metadata.ExecutionId is { } executionId)
        {
            request.Headers.TryAddWithoutValidation(ExecutionIdHeader, executionId);
        }
        request.Headers.TryAddWithoutValidation(MessageTypeHeader, ((int)type).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return request;
    }

    // The token's server with its path kept (https://acme.sealights.co/api → …/api/v3/config).
    private static Uri ServerUri(SealightsToken token, string relative)
    {
        var baseText = (token.Server ?? throw new InvalidOperationException("an accepted token names its server")).GetLeftPart(UriPartial.Path);
        return new Uri(new Uri(baseText.EndsWith('/') ? baseText : baseText + "/"), relative);
    }

    private static void AddCommonHeaders(HttpRequestMessage request, DeliveryOptions options, SealightsToken token)
    {
        // The only place the token's value is used; it never reaches a log line.
        request.Headers.TryAddWithoutValidation("Authorization", token.BearerValue);
        request.Headers.TryAddWithoutValidation(LabIdHeader, options.LabId);
        request.Headers.TryAddWithoutValidation(BuildSessionIdHeader, options.BuildSessionId);
        request.Headers.TryAddWithoutValidation(AgentIdHeader, options.AgentId);
        // x-sl-appName/branchName/buildName and sl-metadata, as far as known (AgentMetadata).
        options.Metadata.AddHeaders(request, options);
    }

    private static Uri Expand(DeliveryOptions options, string template, ActiveExecution? execution)
    {
        var path = new StringBuilder(template.TrimStart('/'));
        path.Replace("{bsid}", Uri.EscapeDataString(options.BuildSessionId))
            .Replace("{executionBsid}", Uri.EscapeDataString(execution is null ? options.BuildSessionId : BuildSessionFor(options, execution)))
            .Replace("{labId}", Uri.EscapeDataString(options.LabId))
            .Replace("{agentId}", Uri.EscapeDataString(options.AgentId))
            .Replace("{testStage}", Uri.EscapeDataString(
                execution is null ? options.TestStage ?? DeliveryOptions.DefaultTestStage : TestStageFor(options, execution)));
        // The base's own path (e.g. https://acme.sealights.co/api) is kept: routes are relative to it.
        var baseText = options.BaseAddress.GetLeftPart(UriPartial.Path);
        var baseUri = new Uri(baseText.EndsWith('/') ? baseText : baseText + "/");
        return new Uri(baseUri, path.ToString());
    }

    private static byte[] Gzip(byte[] json)
    {
        using var buffer = new MemoryStream(json.Length / 4 + 64);
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(json);
        }
        return buffer.ToArray();
    }

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

/// <summary>The lab's active test execution, as the backend answered it.</summary>
public sealed record ActiveExecution(string ExecutionId, string? BuildSessionId, string? TestStage, string? Status)
{
    /// <summary>Status <c>pendingDelete</c>: one last flush goes to it, then nothing until an execution is active again.</summary>
    public bool IsPendingDelete => string.Equals(Status, SealightsRoutes.PendingDeleteStatus, StringComparison.OrdinalIgnoreCase);
}

internal sealed class ExecutionAnswer
{
    [JsonPropertyName("execution")]
    public ExecutionBody? Execution { get; init; }
}

internal sealed class ExecutionBody
{
    [JsonPropertyName("executionId")]
    public string? ExecutionId { get; init; }

    [JsonPropertyName("buildSessionId")]
    public string? BuildSessionId { get; init; }

    [JsonPropertyName("testStage")]
    public string? TestStage { get; init; }

    [JsonPropertyName("status")]
    public string? Status { get; init; }
}

[JsonSerializable(typeof(ExecutionAnswer))]
internal sealed partial class ExecutionJsonContext : JsonSerializerContext;
