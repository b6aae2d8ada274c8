using System.Text.Json;
using Sealights.Lambda.Emulator.Environment;
using Sealights.Lambda.Emulator.Json;
using Sealights.Lambda.Emulator.Telemetry;

namespace Sealights.Lambda.Emulator.Api;

/// <summary>The Telemetry API, <c>PUT /2022-07-01/telemetry</c> (AWS's RIE does not have it).</summary>
internal static class TelemetryApiEndpoints
{
    public static void Map(IEndpointRouteBuilder routes, ExecutionEnvironment environment)
    {
        routes.MapPut("/2022-07-01/telemetry", ApiResponses.Handle(async context =>
        {
            var extensionId = ApiResponses.Header(context, "Lambda-Extension-Identifier");
            environment.ExtensionName(extensionId);
            var body = await ApiResponses.ReadBodyAsync(context.Request, 64 * 1024).ConfigureAwait(false)
                ?? throw new ApiException(new ApiError(413, "RequestEntityTooLarge", "Subscription body too large"));
            TelemetrySubscribeRequest? request;
            try
            {
                request = JsonSerializer.Deserialize(body, EmulatorJsonContext.Default.TelemetrySubscribeRequest);
            }
            catch (JsonException e)
            {
                throw new ApiException(new ApiError(400, "ValidationError", $"Subscription body is not valid JSON: {e.Message}"));
            }
            string? error = "Empty subscription body";
            var settings = request is null ? null : TelemetrySettings.Validate(request, out error);
            if (settings is null)
            {
                throw new ApiException(new ApiError(400, "ValidationError", error ?? "Invalid subscription"));
            }
            environment.SubscribeTelemetry(extensionId, settings);
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("OK", context.RequestAborted).ConfigureAwait(false);
        }));
    }
}
