using System.Reflection.Metadata;

namespace Sealights.Coverage.Metadata;

/// <summary>Attribute checks by name, without resolving or loading the attribute types.</summary>
internal static class CustomAttributes
{
    private const string CompilerServices = "System.Runtime.CompilerServices";

    public static bool IsCompilerGenerated(MetadataReader reader, CustomAttributeHandleCollection attributes) =>
        Find(reader, attributes, CompilerServices, "CompilerGeneratedAttribute").HasValue;

    /// <summary>
    /// The state machine type named by a kickoff method's <c>[AsyncStateMachine(typeof(X))]</c>,
    /// <c>[IteratorStateMachine]</c> or <c>[AsyncIteratorStateMachine]</c>, as its serialized
    /// full name (<c>Ns.Outer+&lt;Run&gt;d__3</c>), or null.
    /// </summary>
    public static string? StateMachineTypeName(MetadataReader reader, CustomAttributeHandleCollection attributes)
    {
        foreach (var handle in attributes)
        {
            var attribute = reader.GetCustomAttribute(handle);
            if (!TryGetAttributeType(reader, attribute, out var @namespace, out var name)
                || @namespace != CompilerServices
                || !name.EndsWith("StateMachineAttribute", StringComparison.Ordinal))
            {
                continue;
            }

            // The blob is the prolog 0x0001 followed by the typeof argument as a SerString.
            var blob = reader.GetBlobReader(attribute.Value);
            if (blob.Length >= 2 && blob.ReadUInt16() == 1)
            {
                return blob.ReadSerializedString();
            }
        }

        return null;
    }

    private static CustomAttribute? Find(MetadataReader reader, CustomAttributeHandleCollection attributes, string @namespace, string name)
    {
        foreach (var handle in attributes)
        {
            var attribute = reader.GetCustomAttribute(handle);
            if (TryGetAttributeType(reader, attribute, out var ns, out var n) && ns == @namespace && n == name)
            {
                return attribute;
            }
        }

        return null;
    }

    private static bool TryGetAttributeType(MetadataReader reader, CustomAttribute attribute, out string @namespace, out string name)
    {
        var type = attribute.Constructor.Kind switch
        {
            HandleKind.MemberReference => reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent,
            HandleKind.MethodDefinition => reader.GetMethodDefinition((MethodDefinitionHandle)attribute.Constructor).GetDeclaringType(),
            _ => default(EntityHandle),
        };
        switch (type.Kind)
        {
            case HandleKind.TypeReference:
                var reference = reader.GetTypeReference((TypeReferenceHandle)type);
                @namespace = reader.GetString(reference.Namespace);
                name = reader.GetString(reference.Name);
                return true;
            case HandleKind.TypeDefinition:
                // Compilers embed their own copy of an attribute when the target framework lacks it.
                var definition = reader.GetTypeDefinition((TypeDefinitionHandle)type);
                @namespace = reader.GetString(definition.Namespace);
                name = reader.GetString(definition.Name);
                return true;
            default:
                @namespace = name = string.Empty;
                return false;
        }
    }
}
