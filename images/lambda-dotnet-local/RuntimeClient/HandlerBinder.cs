using System.Reflection;
using System.Runtime.Loader;

namespace Sealights.Lambda.LocalRuntime;

/// <summary>A handler string or handler method the runtime cannot use: reported as the init error.</summary>
internal sealed class LambdaValidationException(string message, Exception? innerException = null)
    : Exception(message, innerException);

/// <summary>
/// Turns <c>Assembly::Namespace.Type::Method</c> into a <see cref="BoundHandler"/> during init,
/// so every problem with the handler surfaces once, before the first invocation.
/// </summary>
internal static class HandlerBinder
{
    private const string LambdaContextType = "Amazon.Lambda.Core.ILambdaContext";
    private const string SerializerAttributeType = "Amazon.Lambda.Core.LambdaSerializerAttribute";

    public static BoundHandler Bind(string handler, string taskRoot)
    {
        var parts = handler.Split("::");
        if (parts.Length != 3 || parts.Any(string.IsNullOrWhiteSpace))
        {
            throw new LambdaValidationException(
                $"Invalid handler '{handler}': expected the format 'Assembly::Namespace.Type::Method'.");
        }
        var (assemblyName, typeName, methodName) = (StripDll(parts[0]), parts[1], parts[2]);

        var assembly = LoadAssembly(assemblyName, taskRoot);
        var type = LoadType(assembly, assemblyName, typeName);
        var method = FindMethod(type, typeName, methodName);
        var serializer = FindSerializer(method);

        var input = BindInput(method, serializer);
        var output = BindOutput(method, serializer);
        // Instance handlers: one object for the life of the environment, created during init
        // (as AWS does), so constructor work and failures belong to init, not to an invocation.
        var target = method.IsStatic ? null : CreateInstance(type, typeName, methodName);
        return new BoundHandler(method, target, input, output);
    }

    private static string StripDll(string name) =>
        name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? name[..^4] : name;

    private static Assembly LoadAssembly(string assemblyName, string taskRoot)
    {
        // The runtime runs with the function's deps.json, so the default context normally knows
        // the assembly and its dependencies; the task root is the fallback for anything it lacks.
        AssemblyLoadContext.Default.Resolving += (context, name) =>
        {
            var candidate = Path.Combine(taskRoot, name.Name + ".dll");
            return File.Exists(candidate) ? context.LoadFromAssemblyPath(candidate) : null;
        };
        try
        {
            return AssemblyLoadContext.Default.LoadFromAssemblyName(new AssemblyName(assemblyName));
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException or ArgumentException)
        {
            throw new LambdaValidationException(
                $"Unable to load assembly '{assemblyName}': not found through the function's deps.json nor as "
                + $"{Path.Combine(taskRoot, assemblyName + ".dll")} ({e.Message.Trim()})", e);
        }
    }

    private static Type LoadType(Assembly assembly, string assemblyName, string typeName)
    {
        try
        {
            return assembly.GetType(typeName, throwOnError: false)
                ?? throw new LambdaValidationException($"Unable to load type '{typeName}' from assembly '{assemblyName}': no such type.");
        }
        catch (Exception e) when (e is TypeLoadException or FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            throw new LambdaValidationException($"Unable to load type '{typeName}' from assembly '{assemblyName}': {e.Message}", e);
        }
    }

    private static MethodInfo FindMethod(Type type, string typeName, string methodName)
    {
        var candidates = type
            .GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
            .Where(m => m.Name == methodName && !m.IsGenericMethodDefinition)
            .ToArray();
        return candidates.Length switch
        {
            0 => throw new LambdaValidationException($"Unable to find method '{methodName}' in type '{typeName}': no public method has that name."),
            1 => candidates[0],
            _ => throw new LambdaValidationException(
                $"Unable to find method '{methodName}' in type '{typeName}': it has {candidates.Length} public overloads; a handler must be unambiguous."),
        };
    }

    private static LambdaSerializer? FindSerializer(MethodInfo method)
    {
        // Matched by name: the function brings its own Amazon.Lambda.Core, this runtime does not reference it.
        var attribute = method.GetCustomAttributesData().Concat(method.Module.Assembly.GetCustomAttributesData())
            .FirstOrDefault(a => a.AttributeType.FullName == SerializerAttributeType);
        if (attribute is null)
        {
            return null;
        }
        if (attribute.ConstructorArguments is not [{ Value: Type serializerType }])
        {
            throw new LambdaValidationException($"{SerializerAttributeType} on '{method.Name}' does not name a serializer type.");
        }
        return LambdaSerializer.Create(serializerType);
    }

    private static InputBinding BindInput(MethodInfo method, LambdaSerializer? serializer)
    {
        var parameters = method.GetParameters();
        if (parameters.Any(p => p.ParameterType.FullName == LambdaContextType))
        {
            throw new LambdaValidationException(
                $"Handler method '{method.Name}' takes {LambdaContextType}: this local stand-in of Amazon.Lambda.RuntimeSupport "
                + "supports handlers taking () or (Stream) (or one serializer-typed input) without a context parameter.");
        }
        return parameters switch
        {
            [] => InputBinding.None,
            [var p] when p.ParameterType == typeof(Stream) => InputBinding.Stream,
            [var p] when serializer is not null => InputBinding.Typed(serializer, p.ParameterType),
            [var p] => throw new LambdaValidationException(
                $"Handler method '{method.Name}' takes {p.ParameterType.FullName}: without {SerializerAttributeType} "
                + "on the method or assembly only Stream input is supported."),
            _ => throw new LambdaValidationException(
                $"Handler method '{method.Name}' takes {parameters.Length} parameters: supported are () and (Stream)."),
        };
    }

    private static OutputBinding BindOutput(MethodInfo method, LambdaSerializer? serializer)
    {
        var returnType = method.ReturnType;
        var isTask = returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>);
        var valueType = returnType == typeof(void) || returnType == typeof(Task)
            ? null
            : isTask ? returnType.GetGenericArguments()[0] : returnType;
        if (valueType is not null && valueType != typeof(Stream) && valueType != typeof(string) && serializer is null)
        {
            throw new LambdaValidationException(
                $"Handler method '{method.Name}' returns {returnType}: supported are void, Task, Stream, Task<Stream>, string and "
                + $"Task<string>, or any type with {SerializerAttributeType} on the method or assembly.");
        }
        return new OutputBinding(
            IsAwaitable: returnType == typeof(Task) || isTask,
            TaskResult: isTask ? returnType.GetProperty(nameof(Task<object>.Result)) : null,
            ValueType: valueType,
            Serializer: serializer);
    }

    private static object CreateInstance(Type type, string typeName, string methodName)
    {
        if (type.IsAbstract || type.GetConstructor(Type.EmptyTypes) is null)
        {
            throw new LambdaValidationException(
                $"Type '{typeName}' needs a public parameterless constructor: '{methodName}' is an instance method.");
        }
        // DoNotWrapExceptions: a throwing constructor is reported as itself, not as TargetInvocationException.
        return Activator.CreateInstance(type, BindingFlags.Public | BindingFlags.Instance | BindingFlags.DoNotWrapExceptions, null, null, null)!;
    }
}
