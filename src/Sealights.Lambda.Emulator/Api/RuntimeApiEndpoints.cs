using System.Globalization;
using Sealights.Lambda.Emulator.Environment;

namespace Sealights.Lambda.Emulator.Api;

/// <summary>The Runtime API, <c>/2018-06-01/runtime/...</c>.</summary>
internal static class RuntimeApiEndpoints
{
    private const string Prefix = "/2018-06-01/runtime";

    public static void Map(IEndpointRouteBuilder routes, ExecutionEnvironment environment)
    {
        routes.MapGet($"{Prefix}/invocation/next", ApiResponses.Handle(async context =>
        {
            var invocation = await environment.RuntimeNextAsync(context.RequestAborted).ConfigureAwait(false);
            var request = invocation.Request;
            var headers = context.Response.Headers;
            headers["Lambda-Runtime-Aws-Request-Id"] = request.RequestId;
            headers["Lambda-Runtime-Deadline-Ms"] = invocation.DeadlineEpochMs.ToString(CultureInfo.InvariantCulture);
            headers["Lambda-Runtime-Invoked-Function-Arn"] = environment.Function.InvokedFunctionArn;
            headers["Lambda-Runtime-Trace-Id"] = request.TraceId;
            if (request.ClientContext is { } clientContext)
            {
                headers["Lambda-Runtime-Client-Context"] = clientContext;
            }
            if (request.CognitoIdentity is { } cognitoIdentity)
            {
                headers["Lambda-Runtime-Cognito-Identity"] = cognitoIdentity;
            }
            await ApiResponses.WriteJsonAsync(context, request.Payload).ConfigureAwait(false);
        }));

        routes.MapPost($"{Prefix}/invocation/{{id}}/response", ApiResponses.Handle(async context =>
        {
            var body = await ApiResponses.ReadBodyAsync(context.Request, ExecutionEnvironment.MaxPayloadBytes).ConfigureAwait(false);
            environment.RuntimeResponse(ApiResponses.RouteId(context), body);
            await ApiResponses.WriteAcceptedAsync(context).ConfigureAwait(false);
        }));

        routes.MapPost($"{Prefix}/invocation/{{id}}/error", ApiResponses.Handle(async context =>
        {
            var body = await ApiResponses.ReadBodyAsync(context.Request, ExecutionEnvironment.MaxPayloadBytes).ConfigureAwait(false);
            environment.RuntimeError(ApiResponses.RouteId(context), body, ApiResponses.Header(context, "Lambda-Runtime-Function-Error-Type"));
            await ApiResponses.WriteAcceptedAsync(context).ConfigureAwait(false);
        }));

        routes.MapPost($"{Prefix}/init/error", ApiResponses.Handle(async context =>
        {
            var body = await ApiResponses.ReadBodyAsync(context.Request, ExecutionEnvironment.MaxPayloadBytes).ConfigureAwait(false) ?? [];
            environment.RuntimeInitError(body, ApiResponses.Header(context, "Lambda-Runtime-Function-Error-Type"));
            await ApiResponses.WriteAcceptedAsync(context).ConfigureAwait(false);
        }));
    }
}
