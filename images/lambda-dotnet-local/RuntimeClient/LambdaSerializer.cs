using System.Reflection;

namespace Sealights.Lambda.LocalRuntime;

/// <summary>
/// The function's own <c>ILambdaSerializer</c> (named by <c>LambdaSerializerAttribute</c>), driven by
/// reflection because this runtime deliberately references no Amazon.Lambda package.
/// </summary>
internal sealed class LambdaSerializer
{
    private readonly object instance;
    private readonly MethodInfo deserialize;
    private readonly MethodInfo serialize;

    private LambdaSerializer(object instance, MethodInfo deserialize, MethodInfo serialize)
    {
        this.instance = instance;
        this.deserialize = deserialize;
        this.serialize = serialize;
    }

    public static LambdaSerializer Create(Type serializerType)
    {
        var methods = serializerType.GetMethods(BindingFlags.Public | BindingFlags.Instance);
        var deserialize = methods.FirstOrDefault(m => m is { Name: "Deserialize", IsGenericMethodDefinition: true }
            && m.GetParameters() is [{ ParameterType: var p }] && p == typeof(Stream));
        var serialize = methods.FirstOrDefault(m => m is { Name: "Serialize", IsGenericMethodDefinition: true }
            && m.GetParameters() is [_, { ParameterType: var s }] && s == typeof(Stream));
        if (deserialize is null || serialize is null || serializerType.GetConstructor(Type.EmptyTypes) is null)
        {
            throw new LambdaValidationException(
                $"Serializer type '{serializerType.FullName}' needs a public parameterless constructor and the methods "
                + "Deserialize<T>(Stream) and Serialize<T>(T, Stream).");
        }
        var instance = Activator.CreateInstance(serializerType, BindingFlags.Public | BindingFlags.Instance | BindingFlags.DoNotWrapExceptions, null, null, null)!;
        return new LambdaSerializer(instance, deserialize, serialize);
    }

    public object? Deserialize(Type type, Stream payload) =>
        deserialize.MakeGenericMethod(type).Invoke(instance, BindingFlags.DoNotWrapExceptions, null, [payload], null);

    public Stream Serialize(Type type, object? value)
    {
        var body = new MemoryStream();
        serialize.MakeGenericMethod(type).Invoke(instance, BindingFlags.DoNotWrapExceptions, null, [value, body], null);
        body.Position = 0;
        return body;
    }
}
