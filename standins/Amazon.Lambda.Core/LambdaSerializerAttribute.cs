namespace Amazon.Lambda.Core;

/// <summary>
/// Names the <see cref="ILambdaSerializer"/> the runtime uses for a handler's typed input and
/// output: on the handler method, or on the assembly for every handler in it.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly | AttributeTargets.Method)]
public sealed class LambdaSerializerAttribute : Attribute
{
    /// <summary>Names the serializer type (a public class with a parameterless constructor).</summary>
    public LambdaSerializerAttribute(Type serializerType) => SerializerType = serializerType;

    /// <summary>The serializer type.</summary>
    public Type SerializerType { get; set; }
}
