using System.Buffers;
using System.Text.Json;
using Sealights.Lambda.Emulator.Environment;
using Sealights.Lambda.Emulator.Json;

namespace Sealights.Lambda.Emulator.Api;

/// <summary>Shared plumbing of the HTTP endpoints: Lambda-shaped errors, bounded body reads.</summary>
internal static class ApiResponses
{
    /// <summary>Runs a handler, turning a refused call into Lambda's error JSON.</summary>
    public static RequestDelegate Handle(Func<HttpContext, Task> handler) => async context =>
    {
        try
        {
            await handler(context).ConfigureAwait(false);
        }
        catch (ApiException e)
        {
            await WriteErrorAsync(context, e.Error).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client hung up (or was killed) while blocked in next.
        }
        catch (OperationCanceledException)
        {
            // A blocked next whose environment was torn down.
            await WriteErrorAsync(context, new ApiError(403, "InvalidStateTransition", "The execution environment was reset")).ConfigureAwait(false);
        }
    };

    public static Task WriteErrorAsync(HttpContext context, ApiError error)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }
        context.Response.StatusCode = error.StatusCode;
        return WriteJsonAsync(context, JsonSerializer.SerializeToUtf8Bytes(new ErrorBody(error.ErrorMessage, error.ErrorType), EmulatorJsonContext.Default.ErrorBody));
    }

    /// <summary>202 <c>{"status":"OK"}</c>, the Runtime and Extensions APIs' acknowledgement.</summary>
    public static Task WriteAcceptedAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        return WriteJsonAsync(context, JsonSerializer.SerializeToUtf8Bytes(new StatusBody("OK"), EmulatorJsonContext.Default.StatusBody));
    }

    public static async Task WriteJsonAsync(HttpContext context, byte[] body)
    {
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// The request body, or null when it is longer than <paramref name="limit"/> bytes. An
    /// oversize body is still read (and dropped) up to a bound, so that the client, still
    /// sending, gets the 413 instead of a connection reset.
    /// </summary>
    public static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int limit)
    {
        const long drainLimit = 64L * 1024 * 1024;
        var tooLarge = request.ContentLength > limit;
        if (request.ContentLength > drainLimit)
        {
            request.HttpContext.Response.Headers.Connection = "close";
            return null;
        }
        using var body = new MemoryStream(tooLarge ? 0 : (int)(request.ContentLength ?? 4096));
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        long seen = 0;
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(buffer, request.HttpContext.RequestAborted).ConfigureAwait(false)) > 0)
            {
                seen += read;
                tooLarge |= seen > limit;
                if (!tooLarge)
                {
                    body.Write(buffer, 0, read);
                }
                else if (seen > drainLimit)
                {
                    request.HttpContext.Response.Headers.Connection = "close";
                    break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return tooLarge ? null : body.ToArray();
    }

    public static string? Header(HttpContext context, string name) =>
        context.Request.Headers.TryGetValue(name, out var values) && !string.IsNullOrEmpty(values.ToString()) ? values.ToString() : null;

    public static string RouteId(HttpContext context) => context.Request.RouteValues["id"] as string ?? "";

    /// <summary>Unknown paths answer in the APIs' JSON error shape rather than an empty 404.</summary>
    public static Task NotFoundAsync(HttpContext context) => WriteErrorAsync(context,
        new ApiError(404, "InvalidRequest", $"No such API: {context.Request.Method} {context.Request.Path}"));
}
