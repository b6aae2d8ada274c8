using System.Reflection;
using Amazon.Lambda.Core;

namespace Sealights.Lambda.LocalRuntime;

/// <summary>How the payload and the context become the handler's arguments: (), (input), (input, context) or (context).</summary>
internal sealed record InputBinding(Type? InputType, bool TakesContext, LambdaSerializer? Serializer)
{
    public object?[] ToArguments(Stream payload, ILambdaContext context)
    {
        var arguments = new List<object?>(2);
        if (InputType is not null)
        {
            arguments.Add(InputType == typeof(Stream) ? payload : Serializer!.Deserialize(InputType, payload));
        }
        if (TakesContext)
        {
            arguments.Add(context);
        }
        return [.. arguments];
    }
}

/// <summary>How the handler's return value (after awaiting it) becomes the response body.</summary>
internal sealed record OutputBinding(bool IsAwaitable, PropertyInfo? TaskResult, Type? ValueType, LambdaSerializer? Serializer);

/// <summary>A handler method bound once during init and invoked for every event.</summary>
internal sealed class BoundHandler(MethodInfo method, object? target, InputBinding input, OutputBinding output)
{
    public async Task<Stream> InvokeAsync(Stream payload, ILambdaContext context)
    {
        var arguments = input.ToArguments(payload, context);
        // DoNotWrapExceptions: the function's own exception type reaches the error document.
        var result = method.Invoke(target, BindingFlags.DoNotWrapExceptions, null, arguments, null);
        if (output.IsAwaitable)
        {
            var task = (Task?)result ?? throw new InvalidOperationException($"Handler method '{method.Name}' returned a null Task.");
            await task.ConfigureAwait(false);
            result = output.TaskResult?.GetValue(task);
        }
        return output.ValueType switch
        {
            null => new MemoryStream([], writable: false),
            var t when t == typeof(Stream) => (Stream?)result ?? new MemoryStream([], writable: false),
            var t => output.Serializer!.Serialize(t, result),
        };
    }
}
