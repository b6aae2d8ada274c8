using System.Reflection.Metadata;

namespace Sealights.Coverage.Metadata;

/// <summary>Full type names as the id spells them: namespace of the outermost type, nested types joined by '+'.</summary>
internal static class TypeNames
{
    public static string Of(MetadataReader reader, TypeDefinitionHandle handle)
    {
        var type = reader.GetTypeDefinition(handle);
        var name = reader.GetString(type.Name);
        var declaring = type.GetDeclaringType();
        return declaring.IsNil
            ? MethodIdentityFormat.TypeName(reader.GetString(type.Namespace), name)
            : MethodIdentityFormat.NestedTypeName(Of(reader, declaring), name);
    }

    public static string Of(MetadataReader reader, TypeReferenceHandle handle)
    {
        var type = reader.GetTypeReference(handle);
        var name = reader.GetString(type.Name);
        return type.ResolutionScope.Kind == HandleKind.TypeReference
            ? MethodIdentityFormat.NestedTypeName(Of(reader, (TypeReferenceHandle)type.ResolutionScope), name)
            : MethodIdentityFormat.TypeName(reader.GetString(type.Namespace), name);
    }

    /// <summary>Compiler-synthesized types (closures, state machines, anonymous types) have names starting with '&lt;'.</summary>
    public static bool IsCompilerNamed(MetadataReader reader, TypeDefinitionHandle handle) =>
        reader.GetString(reader.GetTypeDefinition(handle).Name).StartsWith('<');
}
