using System.Security.Cryptography;
using System.Text;
using Sealights.Lambda.Emulator.Environment;

namespace Sealights.Lambda.Emulator.Api;

/// <summary>The Lambda Invoke API as RIE serves it: <c>POST /2015-03-31/functions/{name}/invocations</c>.</summary>
internal static class InvokeEndpoint
{
    public static void Map(IEndpointRouteBuilder routes, ExecutionEnvironment environment)
    {
        routes.MapPost("/2015-03-31/functions/{name}/invocations", ApiResponses.Handle(async context =>
        {
            var payload = await ApiResponses.ReadBodyAsync(context.Request, ExecutionEnvironment.MaxPayloadBytes).ConfigureAwait(false)
                ?? throw new ApiException(new ApiError(413, "RequestEntityTooLargeException",
                    $"Request must be smaller than {ExecutionEnvironment.MaxPayloadBytes} bytes for the InvokeFunction operation"));
            var request = new InvokeRequest
            {
                RequestId = ApiResponses.Header(context, "X-Amzn-RequestId") ?? Guid.NewGuid().ToString(),
                Payload = payload,
                TraceId = ApiResponses.Header(context, "X-Amzn-Trace-Id") ?? NewTraceId(),
                ClientContext = DecodeClientContext(ApiResponses.Header(context, "X-Amz-Client-Context")),
                CognitoIdentity = ApiResponses.Header(context, "X-Amz-Cognito-Identity"),
            };

            // The invocation runs to its end even if the caller hangs up, as on Lambda.
            var result = await environment.InvokeAsync(request).ConfigureAwait(false);
            var response = context.Response;
            response.StatusCode = result.StatusCode;
            response.Headers["X-Amzn-RequestId"] = request.RequestId;
            if (result.StatusCode == StatusCodes.Status200OK)
            {
                response.Headers["X-Amz-Executed-Version"] = environment.Function.Version;
            }
            if (result.FunctionError is { } functionError)
            {
                response.Headers["X-Amz-Function-Error"] = functionError;
            }
            response.ContentType = result.ContentType;
            response.ContentLength = result.Body.Length;
            await response.Body.WriteAsync(result.Body, context.RequestAborted).ConfigureAwait(false);
        }));
    }

    /// <summary>Callers send the client context base64-encoded; the runtime gets it decoded.</summary>
    private static string? DecodeClientContext(string? header)
    {
        if (header is null)
        {
            return null;
        }
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(header));
        }
        catch (FormatException)
        {
            throw new ApiException(new ApiError(400, "InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object."));
        }
    }

    /// <summary>An X-Ray trace header like Lambda's: Root=1-{epoch hex}-{96 random bits};Parent={64 bits};Sampled=0.</summary>
    private static string NewTraceId()
    {
        var epoch = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var root = Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
        var parent = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        return $"Root=1-{epoch:x8}-{root};Parent={parent};Sampled=0";
    }
}
