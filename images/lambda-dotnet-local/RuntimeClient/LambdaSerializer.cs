using System.Reflection;
using Amazon.Lambda.Core;

namespace Sealights.Lambda.LocalRuntime;

/// <summary>
/// The function's <see cref="ILambdaSerializer"/>, named by <see cref="LambdaSerializerAttribute"/>
/// on the handler method or its assembly, called for the handler's own input and output types.
/// </summary>
internal sealed class LambdaSerializer
{
    private static readonly MethodInfo DeserializeDefinition = typeof(ILambdaSerializer).GetMethod(nameof(ILambdaSerializer.Deserialize))!;
    private static readonly MethodInfo SerializeDefinition = typeof(ILambdaSerializer).GetMethod(nameof(ILambdaSerializer.Serialize))!;

    private readonly ILambdaSerializer instance;

    private LambdaSerializer(ILambdaSerializer instance) => this.instance = instance;

    /// <summary>The serializer the method's attribute names, else its assembly's, else none.</summary>
    public static LambdaSerializer? For(MethodInfo method)
    {
        var attribute = method.GetCustomAttribute<LambdaSerializerAttribute>()
            ?? method.Module.Assembly.GetCustomAttribute<LambdaSerializerAttribute>();
        if (attribute is null)
        {
            return null;
        }
        var type = attribute.SerializerType
            ?? throw new LambdaValidationException($"The 'SerializerType' property on attribute class '{typeof(LambdaSerializerAttribute).FullName}' is not set.");
        if (!typeof(ILambdaSerializer).IsAssignableFrom(type))
        {
            throw new LambdaValidationException($"The '{type.FullName}' class is invalid: it does not implement the 'ILambdaSerializer' interface.");
        }
        if (type.IsAbstract || type.GetConstructor(Type.EmptyTypes) is null)
        {
            throw new LambdaValidationException($"The indicated serializer '{type.FullName}' does not define a public zero-parameter constructor.");
        }
        // DoNotWrapExceptions: a throwing constructor is reported as itself (an init error).
        var instance = (ILambdaSerializer)Activator.CreateInstance(type, BindingFlags.Public | BindingFlags.Instance | BindingFlags.DoNotWrapExceptions, null, null, null)!;
        return new LambdaSerializer(instance);
    }

    public object? Deserialize(Type type, Stream payload) =>
        DeserializeDefinition.MakeGenericMethod(type).Invoke(instance, BindingFlags.DoNotWrapExceptions, null, [payload], null);

    public Stream Serialize(Type type, object? value)
    {
        var body = new MemoryStream();
        SerializeDefinition.MakeGenericMethod(type).Invoke(instance, BindingFlags.DoNotWrapExceptions, null, [value, body], null);
        body.Position = 0;
        return body;
    }
}
