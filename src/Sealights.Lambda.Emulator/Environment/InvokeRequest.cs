using System.Text;
using System.Text.Json;
using Sealights.Lambda.Emulator.Json;

namespace Sealights.Lambda.Emulator.Environment;

/// <summary>One call to the invoke endpoint, waiting in the queue or being served.</summary>
internal sealed class InvokeRequest
{
    private readonly TaskCompletionSource<InvokeResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public required string RequestId { get; init; }

    public required byte[] Payload { get; init; }

    public required string TraceId { get; init; }

    public string? ClientContext { get; init; }

    public string? CognitoIdentity { get; init; }

    public Task<InvokeResult> Result => _result.Task;

    /// <summary>Set once the caller has its answer (response, error or failure): the first answer wins.</summary>
    public bool Answered { get; private set; }

    /// <summary>Answers the caller unless it was answered already. Call under the environment lock.</summary>
    public bool TryAnswer(InvokeResult result)
    {
        if (Answered)
        {
            return false;
        }
        Answered = true;
        _result.TrySetResult(result);
        return true;
    }
}

/// <summary>What the invoke endpoint sends back.</summary>
internal sealed record InvokeResult(int StatusCode, byte[] Body, string ContentType, string? FunctionError)
{
    /// <summary>The runtime's response as posted; Lambda's Invoke API always labels it application/json.</summary>
    public static InvokeResult Success(byte[] body) => new(200, body, "application/json", null);

    /// <summary>A function error: 200 with X-Amz-Function-Error: Unhandled and the error JSON.</summary>
    public static InvokeResult Unhandled(byte[] body) => new(200, body, "application/json", "Unhandled");

    public static InvokeResult Unhandled(string errorType, string errorMessage) => Unhandled(ErrorJson(errorType, errorMessage));

    public static InvokeResult Service(int statusCode, string errorType, string errorMessage) =>
        new(statusCode, ErrorJson(errorType, errorMessage), "application/json", null);

    public static byte[] ErrorJson(string errorType, string errorMessage) =>
        JsonSerializer.SerializeToUtf8Bytes(new ErrorBody(errorMessage, errorType), EmulatorJsonContext.Default.ErrorBody);

    public override string ToString() => $"{StatusCode} {FunctionError} {Encoding.UTF8.GetString(Body)}";
}
