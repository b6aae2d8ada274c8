using System.CommandLine;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Sealights.Images.Cli.Commands;

/// <summary>
/// <c>sl-images handler FOLDER ASSEMBLY::TYPE::METHOD</c>: whether a class-library handler exists
/// in a publish folder, so a typo fails the build (the MSBuild package runs it at publish) instead
/// of the first invoke. Reads metadata only: nothing is loaded or run. Exit 0 found, 1 not found
/// (one line saying what to change), 2 bad input.
/// </summary>
public static class HandlerCommand
{
    public static Command Create()
    {
        var folder = new Argument<DirectoryInfo>("folder") { Description = "the publish folder (what goes to /var/task)" };
        var handler = new Argument<string>("handler") { Description = "Assembly::Namespace.Type::Method, as in the function's handler setting" };
        var command = new Command("handler", "check that a class-library Lambda handler's assembly, type and method exist in a publish folder") { folder, handler };
        command.SetAction(parse =>
        {
            var (code, message) = Check(parse.GetValue(folder)!.FullName, parse.GetValue(handler)!);
            (code == ExitCodes.Success ? Console.Out : Console.Error).WriteLine(message);
            return code;
        });
        return command;
    }

    public static (int Code, string Message) Check(string folder, string handler)
    {
        var parts = handler.Split("::");
        if (parts.Length != 3 || parts.Any(string.IsNullOrWhiteSpace))
        {
            return (ExitCodes.InvalidInput, $"handler '{handler}' is not Assembly::Namespace.Type::Method");
        }
        var (assemblyName, typeName, methodName) = (parts[0], parts[1], parts[2]);
        if (!Directory.Exists(folder))
        {
            return (ExitCodes.InvalidInput, $"{folder} does not exist");
        }
        var path = Path.Combine(folder, assemblyName + ".dll");
        if (!File.Exists(path))
        {
            var present = Directory.EnumerateFiles(folder, "*.runtimeconfig.json").Select(f => Path.GetFileName(f)[..^".runtimeconfig.json".Length]).Order(StringComparer.Ordinal);
            return (ExitCodes.Finding, $"handler '{handler}': there is no {assemblyName}.dll in the publish folder; the part before the first '::' is the assembly name (here: {string.Join(", ", present.DefaultIfEmpty("none"))})");
        }

        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        if (!pe.HasMetadata)
        {
            return (ExitCodes.Finding, $"handler '{handler}': {assemblyName}.dll is not a .NET assembly");
        }
        var metadata = pe.GetMetadataReader();
        var types = metadata.TypeDefinitions.ToDictionary(t => FullName(metadata, t), StringComparer.Ordinal);
        if (!types.TryGetValue(typeName, out var type))
        {
            return (ExitCodes.Finding, $"handler '{handler}': {assemblyName}.dll has no type '{typeName}'{Suggest(types.Keys, typeName, methodName, metadata, types)}");
        }

        // Lambda's runtime looks the method up by name, inherited ones included.
        var methods = new List<string>();
        for (var current = (TypeDefinitionHandle?)type; current is { } handle;)
        {
            var definition = metadata.GetTypeDefinition(handle);
            foreach (var method in definition.GetMethods().Select(metadata.GetMethodDefinition))
            {
                var name = metadata.GetString(method.Name);
                if (name == methodName)
                {
                    return (ExitCodes.Success, $"handler '{handler}' found in {assemblyName}.dll");
                }
                if ((method.Attributes & System.Reflection.MethodAttributes.SpecialName) == 0 && !name.StartsWith('<'))
                {
                    methods.Add(name);
                }
            }
            current = definition.BaseType.Kind == HandleKind.TypeDefinition ? (TypeDefinitionHandle)definition.BaseType : null;
            if (current is null && !definition.BaseType.IsNil && definition.BaseType.Kind != HandleKind.TypeDefinition && !IsObject(metadata, definition.BaseType))
            {
                // A base type in another assembly may hold the method: not decidable from this file.
                return (ExitCodes.Success, $"handler '{handler}': type found in {assemblyName}.dll; method '{methodName}' not in it, maybe inherited from another assembly");
            }
        }
        var candidates = methods.Distinct().Where(m => m is not ".ctor" and not ".cctor").Order(StringComparer.Ordinal).ToList();
        return (ExitCodes.Finding, $"handler '{handler}': type '{typeName}' has no method '{methodName}'; the part after the last '::' is the method name (its methods: {string.Join(", ", candidates.DefaultIfEmpty("none"))})");
    }

    private static string Suggest(IEnumerable<string> typeNames, string typeName, string methodName, MetadataReader metadata, Dictionary<string, TypeDefinitionHandle> types)
    {
        var simple = typeName[(typeName.LastIndexOfAny(['.', '+']) + 1)..];
        var similar = typeNames.Where(t => string.Equals(t, typeName, StringComparison.OrdinalIgnoreCase)
                || string.Equals(t[(t.LastIndexOfAny(['.', '+']) + 1)..], simple, StringComparison.OrdinalIgnoreCase))
            .ToList();
        if (similar.Count == 0)
        {
            similar = types.Where(t => metadata.GetTypeDefinition(t.Value).GetMethods().Any(m => metadata.GetString(metadata.GetMethodDefinition(m).Name) == methodName))
                .Select(t => t.Key).ToList();
        }
        return similar.Count == 0
            ? "; the middle part is the type's full name, namespace included"
            : $"; the middle part is the type's full name, namespace included: did you mean {string.Join(" or ", similar.Order(StringComparer.Ordinal).Take(3).Select(s => $"'{s}'"))}?";
    }

    private static string FullName(MetadataReader metadata, TypeDefinitionHandle handle)
    {
        var type = metadata.GetTypeDefinition(handle);
        var name = metadata.GetString(type.Name);
        var declaring = type.GetDeclaringType();
        if (!declaring.IsNil)
        {
            return FullName(metadata, declaring) + "+" + name;
        }
        var ns = metadata.GetString(type.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    private static bool IsObject(MetadataReader metadata, EntityHandle handle) =>
        handle.Kind == HandleKind.TypeReference
        && metadata.GetTypeReference((TypeReferenceHandle)handle) is var reference
        && metadata.GetString(reference.Namespace) == "System"
        && metadata.GetString(reference.Name) == "Object";
}
