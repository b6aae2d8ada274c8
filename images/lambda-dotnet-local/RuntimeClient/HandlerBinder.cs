using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Amazon.Lambda.Core;

namespace Sealights.Lambda.LocalRuntime;

/// <summary>A handler string or handler method the runtime cannot use: reported as the init error.</summary>
internal sealed class LambdaValidationException(string message, Exception? innerException = null)
    : Exception(message, innerException);

/// <summary>
/// Turns <c>Assembly::Namespace.Type::Method</c> into a <see cref="BoundHandler"/> during init,
/// so every problem with the handler surfaces once, before the first invocation. The shapes and
/// messages are RuntimeSupport's: at most two parameters, the second (or only) one may be
/// <see cref="ILambdaContext"/>; anything but <see cref="Stream"/> in or out goes through the
/// serializer named by <see cref="LambdaSerializerAttribute"/>.
/// </summary>
internal static class HandlerBinder
{
    private const string HandlerFormat = "The valid format is 'ASSEMBLY::TYPE::METHOD'.";

    public static BoundHandler Bind(string handler)
    {
        var (assemblyName, typeName, methodName) = Parse(handler);
        // The function's deps.json (the process runs under it) decides what loads: like AWS, no
        // probing of the task root, so a dependency the function does not declare fails here too.
        var assembly = LoadAssembly(assemblyName);
        var type = LoadType(assembly, assemblyName, typeName);
        var method = FindMethod(type, typeName, methodName, assemblyName);
        Validate(type, method);
        var serializer = LambdaSerializer.For(method);

        var input = BindInput(method, typeName, serializer);
        var output = BindOutput(method, serializer);
        // Instance handlers: one object for the life of the environment, created during init
        // (as AWS does), so constructor work and failures belong to init, not to an invocation.
        var target = method.IsStatic ? null : CreateInstance(type, method);
        return new BoundHandler(method, target, input, output);
    }

    private static (string Assembly, string Type, string Method) Parse(string handler)
    {
        if (string.IsNullOrWhiteSpace(handler))
        {
            throw new LambdaValidationException("Empty lambda function handler. " + HandlerFormat);
        }
        var parts = handler.Split("::");
        if (parts.Length != 3)
        {
            throw new LambdaValidationException($"Invalid lambda function handler: '{handler}'. {HandlerFormat}");
        }
        string[] what = ["assembly", "type", "method"];
        for (var i = 0; i < 3; i++)
        {
            if (string.IsNullOrWhiteSpace(parts[i]))
            {
                throw new LambdaValidationException($"Invalid lambda function handler: '{handler}', the {what[i]} is missing. {HandlerFormat}");
            }
        }
        var assembly = parts[0].EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? parts[0][..^4] : parts[0];
        return (assembly, parts[1], parts[2]);
    }

    private static Assembly LoadAssembly(string assemblyName)
    {
        try
        {
            return AssemblyLoadContext.Default.LoadFromAssemblyName(new AssemblyName(assemblyName));
        }
        catch (FileNotFoundException e)
        {
            throw new LambdaValidationException(
                $"Could not find the specified handler assembly with the file name '{e.FileName ?? assemblyName}'. "
                + "The assembly should be located in the root of your uploaded .zip file.", e);
        }
        catch (Exception e) when (e is FileLoadException or BadImageFormatException or ArgumentException)
        {
            throw new LambdaValidationException($"Unable to load assembly '{assemblyName}'.", e);
        }
    }

    private static Type LoadType(Assembly assembly, string assemblyName, string typeName)
    {
        Type? type;
        try
        {
            type = assembly.GetType(typeName, throwOnError: false);
        }
        catch (Exception e) when (e is TypeLoadException or FileLoadException or BadImageFormatException)
        {
            throw new LambdaValidationException($"Unable to load type '{typeName}' from assembly '{assemblyName}'.", e);
        }
        return type ?? throw new LambdaValidationException($"Unable to load type '{typeName}' from assembly '{assemblyName}'.");
    }

    private static MethodInfo FindMethod(Type type, string typeName, string methodName, string assemblyName)
    {
        var candidates = type
            .GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.FlattenHierarchy)
            .Where(m => m.Name == methodName)
            .ToArray();
        return candidates.Length switch
        {
            0 => throw new LambdaValidationException(
                $"Unable to find method '{methodName}' in type '{typeName}' from assembly '{assemblyName}': Found no methods matching method name '{methodName}'."),
            1 => candidates[0],
            _ => throw new LambdaValidationException(
                $"The method '{methodName}' in type '{typeName}' appears to have a number of overloads. This local runtime "
                + "does not resolve overloads: give the handler method a unique name. Candidates:\n"
                + string.Join('\n', candidates.Select(m => m.ToString())) + "."),
        };
    }

    private static void Validate(Type type, MethodInfo method)
    {
        if (type.IsGenericType)
        {
            throw new LambdaValidationException($"The type '{type.FullName}' cannot be used as a Lambda Handler type because it is generic. Handler methods cannot be located in generic types. Please specify a handler method in a non-generic type.");
        }
        if (!method.IsStatic && type.IsAbstract)
        {
            throw new LambdaValidationException($"The instance method '{method.Name}' cannot be used as a Lambda Handler because its type '{type.FullName}' is abstract. Please either use a static handler or specify a type that is not abstract.");
        }
        if (method.IsGenericMethod)
        {
            throw new LambdaValidationException($"The method '{method.Name}' cannot be used as a Lambda Handler because it is a generic method. Handler methods cannot be generic. Please specify a non-generic handler method.");
        }
        if (method.ReturnType == typeof(void) && method.GetCustomAttribute<AsyncStateMachineAttribute>() is not null)
        {
            throw new LambdaValidationException($"The method '{method.Name}' cannot be used as a Lambda Handler because it is an 'async void' method. Handler methods cannot be 'async void'. Please specify a method that is not 'async void'.");
        }
        if (method.GetParameters().Any(p => p.GetCustomAttribute<ParamArrayAttribute>() is not null))
        {
            throw new LambdaValidationException($"The method '{method.Name}' cannot be used as a Lambda Handler because it is a 'params' method. Please specify a method that does not use 'params'.");
        }
    }

    private static InputBinding BindInput(MethodInfo method, string typeName, LambdaSerializer? serializer)
    {
        var parameters = method.GetParameters();
        if (parameters.Length > 2)
        {
            throw new LambdaValidationException($"Method '{method.Name}' of type '{typeName}' is not supported: the method has more than 2 parameters.");
        }
        if (parameters.Length == 2 && parameters[1].ParameterType != typeof(ILambdaContext))
        {
            throw new LambdaValidationException(
                $"Method '{method.Name}' of type '{typeName}' is not supported: the method has 2 parameters, but the second parameter is not of type '{typeof(ILambdaContext).FullName}'.");
        }
        var inputType = parameters.Length > 0 && parameters[0].ParameterType != typeof(ILambdaContext) ? parameters[0].ParameterType : null;
        var takesContext = parameters.Length > 0 && parameters[^1].ParameterType == typeof(ILambdaContext);
        if (inputType is not null && inputType != typeof(Stream) && serializer is null)
        {
            throw new LambdaValidationException(MissingSerializer(method, "deserialize input", inputType));
        }
        return new InputBinding(inputType, takesContext, serializer);
    }

    private static OutputBinding BindOutput(MethodInfo method, LambdaSerializer? serializer)
    {
        var returnType = method.ReturnType;
        var isGenericTask = returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>);
        var valueType = returnType == typeof(void) || returnType == typeof(Task)
            ? null
            : isGenericTask ? returnType.GetGenericArguments()[0] : returnType;
        if (valueType is not null && valueType != typeof(Stream) && serializer is null)
        {
            throw new LambdaValidationException(MissingSerializer(method, "serialize output", valueType));
        }
        return new OutputBinding(
            IsAwaitable: returnType == typeof(Task) || isGenericTask,
            TaskResult: isGenericTask ? returnType.GetProperty(nameof(Task<object>.Result)) : null,
            ValueType: valueType,
            Serializer: serializer);
    }

    private static string MissingSerializer(MethodInfo method, string what, Type type) =>
        $"Could not find the LambdaSerializerAttribute on the assembly '{method.Module.Assembly.FullName}' or method '{method.Name}' "
        + $"while attempting to {what} data of type '{type.FullName}'. To use types other than System.IO.Stream as input/output "
        + $"parameters, the assembly or Lambda function should be annotated with {typeof(LambdaSerializerAttribute).FullName}.";

    private static object CreateInstance(Type type, MethodInfo method)
    {
        if (type.GetConstructor(Type.EmptyTypes) is null && !type.IsValueType)
        {
            throw new LambdaValidationException(
                $"Type '{type.FullName}' needs a public parameterless constructor: '{method.Name}' is an instance method.");
        }
        // DoNotWrapExceptions: a throwing constructor is reported as itself, not as TargetInvocationException.
        return Activator.CreateInstance(type, BindingFlags.Public | BindingFlags.Instance | BindingFlags.DoNotWrapExceptions, null, null, null)!;
    }
}
