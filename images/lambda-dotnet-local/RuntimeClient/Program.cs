using System.Globalization;

namespace Sealights.Lambda.LocalRuntime;

/// <summary>
/// Local stand-in of AWS's Amazon.Lambda.RuntimeSupport in class-library mode:
/// <c>dotnet exec --depsfile F.deps.json --runtimeconfig F.runtimeconfig.json Amazon.Lambda.RuntimeSupport.dll Asm::Ns.Type::Method</c>.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args.Length != 1)
        {
            Log.Error(null, "usage: Amazon.Lambda.RuntimeSupport.dll Assembly::Namespace.Type::Method");
            return 2;
        }
        var runtimeApi = Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API");
        if (string.IsNullOrWhiteSpace(runtimeApi))
        {
            Log.Error(null, "AWS_LAMBDA_RUNTIME_API is not set: this runtime must be started by Lambda or a Lambda emulator.");
            return 2;
        }
        var taskRoot = Environment.GetEnvironmentVariable("LAMBDA_TASK_ROOT") is { Length: > 0 } root ? root : "/var/task";

        using var api = new RuntimeApiClient(runtimeApi);
        BoundHandler handler;
        try
        {
            handler = HandlerBinder.Bind(args[0], taskRoot);
        }
        catch (Exception e)
        {
            var error = LambdaError.FromException(e);
            Log.Error(null, error.ToLogText());
            await api.PostInitErrorAsync(error, CancellationToken.None).ConfigureAwait(false);
            return 1;
        }

        try
        {
            await RunInvocationLoopAsync(api, handler).ConfigureAwait(false);
            return 0;
        }
        catch (HttpRequestException e)
        {
            // The Runtime API went away or broke the contract: nothing left to serve.
            Log.Error(null, "Runtime API failure: " + e.Message);
            return 1;
        }
    }

    private static async Task RunInvocationLoopAsync(RuntimeApiClient api, BoundHandler handler)
    {
        while (true)
        {
            var invocation = await api.GetNextInvocationAsync(CancellationToken.None).ConfigureAwait(false);
            // X-Ray SDKs read the trace header from here; clear it when this invocation has none.
            Environment.SetEnvironmentVariable("_X_AMZN_TRACE_ID", invocation.TraceId);

            Stream body;
            try
            {
                body = await handler.InvokeAsync(new MemoryStream(invocation.Payload, writable: false)).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                var error = LambdaError.FromException(e);
                Log.Error(invocation.RequestId, error.ToLogText());
                await api.PostInvocationErrorAsync(invocation.RequestId, error, CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            try
            {
                await api.PostResponseAsync(invocation.RequestId, body, CancellationToken.None).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (e.StatusCode is not null)
            {
                // Refused (e.g. 413, too large): Lambda reports that to the caller itself; keep serving.
                Log.Error(invocation.RequestId, "The Runtime API refused the response: " + e.Message);
            }
        }
    }
}

/// <summary>Lines in the shape Lambda's .NET runtime writes: timestamp, request id, level, text.</summary>
internal static class Log
{
    public static void Error(string? requestId, string text) =>
        Console.Error.WriteLine(string.Join(
            '\t',
            DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            requestId ?? "",
            "fail",
            text));
}
