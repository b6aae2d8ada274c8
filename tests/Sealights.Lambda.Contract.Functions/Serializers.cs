using System.Text;
using System.Text.Json;
using Amazon.Lambda.Core;

[assembly: LambdaSerializer(typeof(Contract.Functions.JsonSerializer))]

namespace Contract.Functions;

/// <summary>The assembly's serializer: System.Text.Json with camelCase names.</summary>
public sealed class JsonSerializer : ILambdaSerializer
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public T Deserialize<T>(Stream requestStream) =>
        System.Text.Json.JsonSerializer.Deserialize<T>(requestStream, Options)!;

    public void Serialize<T>(T response, Stream responseStream) =>
        System.Text.Json.JsonSerializer.Serialize(responseStream, response, Options);
}

/// <summary>A method-level serializer: wins over the assembly's, and shows it by shouting.</summary>
public sealed class ShoutingSerializer : ILambdaSerializer
{
    private readonly JsonSerializer inner = new();

    public T Deserialize<T>(Stream requestStream) => inner.Deserialize<T>(requestStream);

    public void Serialize<T>(T response, Stream responseStream)
    {
        using var buffer = new MemoryStream();
        inner.Serialize(response, buffer);
        var upper = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(buffer.ToArray()).ToUpperInvariant());
        responseStream.Write(upper);
    }
}
