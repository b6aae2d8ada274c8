namespace Sealights.Lambda.LocalRuntime;

/// <summary><c>next</c>, invoke, <c>response</c> or <c>error</c>, for the life of the environment.</summary>
internal static class InvocationLoop
{
    public static async Task RunAsync(RuntimeApiClient api, BoundHandler handler, FunctionSettings function)
    {
        while (true)
        {
            var invocation = await api.GetNextInvocationAsync(CancellationToken.None).ConfigureAwait(false);
            // X-Ray SDKs read the trace header from here; clear it when this invocation has none.
            Environment.SetEnvironmentVariable("_X_AMZN_TRACE_ID", invocation.TraceId);

            Stream body;
            try
            {
                var context = new LambdaContext(invocation, function);
                body = await handler.InvokeAsync(new MemoryStream(invocation.Payload, writable: false), context).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                var error = LambdaError.FromException(e);
                Console.Error.WriteLine(error.ToLogLine(invocation.RequestId));
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
                Console.Error.WriteLine(string.Join('\t', LogTimestamp.Now(), invocation.RequestId, "fail", "The Runtime API refused the response: " + e.Message));
            }
        }
    }
}
