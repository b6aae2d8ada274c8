using System.Runtime.InteropServices;
using System.Text.Json;

namespace SampleFunction;

/// <summary>
/// The sample Lambda function. Handler: <c>SampleFunction::SampleFunction.Function::Handle</c>
/// (JSON in, JSON out as streams; see README.md for the inputs and outputs).
/// </summary>
public sealed class Function
{
    private static readonly string[] SupportedActions = ["quote", "echo", "info", "wait", "fail"];

    private readonly PricingEngine pricing = new(new PriceCatalog(), new DiscountRules());

    public Stream Handle(Stream input)
    {
        FunctionRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(input, SampleJsonContext.Default.FunctionRequest);
        }
        catch (JsonException e)
        {
            return Write(new ClientError(400, "invalid JSON: " + e.Message), SampleJsonContext.Default.ClientError);
        }

        try
        {
            return request?.Action?.ToLowerInvariant() switch
            {
                "quote" => Write(pricing.Price(request.Items, request.Coupon), SampleJsonContext.Default.Quote),
                "echo" => Echo(request.Message),
                "info" => Write(Info(), SampleJsonContext.Default.InfoResponse),
                "wait" => Wait(request.Ms),
                "fail" => Fail(),
                null or "" => Write(new ClientError(400, "missing action", SupportedActions), SampleJsonContext.Default.ClientError),
                _ => Write(
                    new ClientError(400, $"unknown action: {request.Action}", SupportedActions),
                    SampleJsonContext.Default.ClientError),
            };
        }
        catch (OrderValidationException e)
        {
            return Write(new ClientError(400, e.Message), SampleJsonContext.Default.ClientError);
        }
    }

    private static Stream Echo(string? message)
    {
        var text = message ?? "";
        return Write(new EchoResponse("echo", text, text.Length), SampleJsonContext.Default.EchoResponse);
    }

    // A slow invocation on demand (tests act while the function is busy); capped at 10 s.
    private static Stream Wait(int? milliseconds)
    {
        var ms = Math.Clamp(milliseconds ?? 0, 0, 10_000);
        Thread.Sleep(ms);
        return Write(new WaitResponse("wait", ms), SampleJsonContext.Default.WaitResponse);
    }

    // Which runtime really runs the function (the :8 and :10 stand-ins must differ here).
    private static InfoResponse Info() => new(
        "info",
        RuntimeInformation.FrameworkDescription,
        Environment.Version.ToString(),
        Environment.GetEnvironmentVariable("AWS_EXECUTION_ENV"),
        Environment.GetEnvironmentVariable("AWS_LAMBDA_FUNCTION_NAME"));

    // Deliberately unhandled: shows Lambda's error document ({errorType, errorMessage, stackTrace}).
    private static Stream Fail() =>
        throw new InvalidOperationException("Deliberate failure: the fail action always throws.");

    private static MemoryStream Write<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        var output = new MemoryStream();
        JsonSerializer.Serialize(output, value, typeInfo);
        output.Position = 0;
        return output;
    }
}
