using System.Reflection;
using System.Text;

namespace Sealights.Lambda.LocalRuntime;

/// <summary>How the invocation payload becomes the handler's argument list.</summary>
internal sealed class InputBinding
{
    private readonly Func<Stream, object?[]> toArguments;

    private InputBinding(Func<Stream, object?[]> toArguments) => this.toArguments = toArguments;

    public static InputBinding None { get; } = new(_ => []);

    public static InputBinding Stream { get; } = new(payload => [payload]);

    public static InputBinding Typed(LambdaSerializer serializer, Type type) =>
        new(payload => [serializer.Deserialize(type, payload)]);

    public object?[] ToArguments(Stream payload) => toArguments(payload);
}

/// <summary>How the handler's return value (after awaiting it) becomes the response body.</summary>
internal sealed record OutputBinding(bool IsAwaitable, PropertyInfo? TaskResult, Type? ValueType, LambdaSerializer? Serializer);

/// <summary>A handler method bound once during init and invoked for every event.</summary>
internal sealed class BoundHandler(MethodInfo method, object? target, InputBinding input, OutputBinding output)
{
    public async Task<Stream> InvokeAsync(Stream payload)
    {
        var arguments = input.ToArguments(payload);
        // DoNotWrapExceptions: the function's own exception type reaches the error document.
        var result = method.Invoke(target, BindingFlags.DoNotWrapExceptions, null, arguments, null);
        if (output.IsAwaitable)
        {
            var task = (Task?)result ?? throw new InvalidOperationException($"Handler method '{method.Name}' returned a null Task.");
            await task.ConfigureAwait(false);
            result = output.TaskResult?.GetValue(task);
        }
        return ToBody(result);
    }

    private Stream ToBody(object? result) => output.ValueType switch
    {
        null => new MemoryStream([], writable: false),
        var t when t == typeof(Stream) => (Stream?)result ?? new MemoryStream([], writable: false),
        var t when t == typeof(string) => new MemoryStream(Encoding.UTF8.GetBytes((string?)result ?? ""), writable: false),
        var t => output.Serializer!.Serialize(t, result),
    };
}
