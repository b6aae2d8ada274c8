using System.Text.Json;

namespace SampleFunction;

/// <summary>
/// The sample Lambda function. Handler: <c>SampleFunction::SampleFunction.Function::Handle</c>
/// (JSON in, JSON out as streams; see README.md for the inputs and outputs).
/// </summary>
public sealed class Function
{
    private static readonly string[] SupportedActions = ["quote", "echo", "fail"];

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
                "fail" => Fail(),
                _ => Write(
                    new ClientError(400, $"unknown action '{request?.Action}'", SupportedActions),
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

    // Deliberately unhandled: shows Lambda's error document ({errorType, errorMessage, stackTrace}).
    private static Stream Fail() =>
        throw new InvalidOperationException("The 'fail' action always fails: this is the sample's deliberate error path.");

    private static MemoryStream Write<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        var output = new MemoryStream();
        JsonSerializer.Serialize(output, value, typeInfo);
        output.Position = 0;
        return output;
    }
}
