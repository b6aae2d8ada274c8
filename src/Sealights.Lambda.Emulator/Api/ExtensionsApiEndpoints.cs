using System.Text.Json;
using Sealights.Lambda.Emulator.Environment;
using Sealights.Lambda.Emulator.Hosting;
using Sealights.Lambda.Emulator.Json;

namespace Sealights.Lambda.Emulator.Api;

/// <summary>The Extensions API, <c>/2020-01-01/extension/...</c>.</summary>
internal static class ExtensionsApiEndpoints
{
    private const string Prefix = "/2020-01-01/extension";
    private const string IdentifierHeader = "Lambda-Extension-Identifier";
    private static readonly string[] ValidEvents = ["INVOKE", "SHUTDOWN"];

    public static void Map(IEndpointRouteBuilder routes, ExecutionEnvironment environment)
    {
        routes.MapPost($"{Prefix}/register", ApiResponses.Handle(async context =>
        {
            var name = ApiResponses.Header(context, "Lambda-Extension-Name")
                ?? throw new ApiException(new ApiError(403, "Extension.MissingExtensionName", "Missing Lambda-Extension-Name header"));
            var body = await ApiResponses.ReadBodyAsync(context.Request, 64 * 1024).ConfigureAwait(false)
                ?? throw new ApiException(new ApiError(413, "RequestEntityTooLarge", "Registration body too large"));
            var events = ParseEvents(body);
            var agent = environment.RegisterExtension(name, events);

            var function = environment.Function;
            var wantsAccountId = ApiResponses.Header(context, "Lambda-Extension-Accept-Feature")?
                .Split(',', StringSplitOptions.TrimEntries).Contains("accountId") == true;
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.Headers[IdentifierHeader] = agent.Id;
            await ApiResponses.WriteJsonAsync(context, JsonSerializer.SerializeToUtf8Bytes(
                new RegisterResponse(function.Name, function.Version, function.Handler, wantsAccountId ? FunctionConfiguration.AccountId : null),
                EmulatorJsonContext.Default.RegisterResponse)).ConfigureAwait(false);
        }));

        routes.MapGet($"{Prefix}/event/next", ApiResponses.Handle(async context =>
        {
            var extensionEvent = await environment.ExtensionNextAsync(ApiResponses.Header(context, IdentifierHeader), context.RequestAborted).ConfigureAwait(false);
            context.Response.Headers["Lambda-Extension-Event-Identifier"] = extensionEvent.EventId;
            await ApiResponses.WriteJsonAsync(context, extensionEvent.Body).ConfigureAwait(false);
        }));

        routes.MapPost($"{Prefix}/init/error", ApiResponses.Handle(context =>
        {
            environment.ExtensionInitError(ApiResponses.Header(context, IdentifierHeader), RequiredErrorType(context));
            return ApiResponses.WriteAcceptedAsync(context);
        }));

        routes.MapPost($"{Prefix}/exit/error", ApiResponses.Handle(context =>
        {
            environment.ExtensionExitError(ApiResponses.Header(context, IdentifierHeader), RequiredErrorType(context));
            return ApiResponses.WriteAcceptedAsync(context);
        }));
    }

    private static string[] ParseEvents(byte[] body)
    {
        RegisterRequest? request;
        try
        {
            request = body.Length == 0 ? new RegisterRequest() : JsonSerializer.Deserialize(body, EmulatorJsonContext.Default.RegisterRequest);
        }
        catch (JsonException e)
        {
            throw new ApiException(new ApiError(400, "InvalidRequestFormat", $"Registration body is not valid JSON: {e.Message}"));
        }
        var events = request?.Events ?? [];
        if (events.FirstOrDefault(e => !ValidEvents.Contains(e)) is { } invalid)
        {
            throw new ApiException(new ApiError(400, "Extension.InvalidEventType",
                $"'{invalid}' is not an event an extension can register for (INVOKE, SHUTDOWN)"));
        }
        return [.. events.Distinct()];
    }

    private static string RequiredErrorType(HttpContext context) =>
        ApiResponses.Header(context, "Lambda-Extension-Function-Error-Type")
        ?? throw new ApiException(new ApiError(400, "Extension.MissingHeader", "Missing Lambda-Extension-Function-Error-Type header"));
}
