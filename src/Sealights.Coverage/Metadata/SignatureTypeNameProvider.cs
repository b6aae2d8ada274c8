using System.Collections.Immutable;
using System.Reflection.Metadata;

namespace Sealights.Coverage.Metadata;

/// <summary>
/// Decodes signature blobs into the id's type spelling. Custom modifiers and pinning are
/// dropped: C# cannot overload on them, and keeping them would make ids depend on compiler
/// details (e.g. <c>in</c> parameters only get <c>modreq</c> on virtual methods).
/// </summary>
internal sealed class SignatureTypeNameProvider : ISignatureTypeProvider<string, object?>
{
    public static readonly SignatureTypeNameProvider Instance = new();

    private SignatureTypeNameProvider()
    {
    }

    public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode switch
    {
        PrimitiveTypeCode.Boolean => "System.Boolean",
        PrimitiveTypeCode.Byte => "System.Byte",
        PrimitiveTypeCode.SByte => "System.SByte",
        PrimitiveTypeCode.Char => "System.Char",
        PrimitiveTypeCode.Int16 => "System.Int16",
        PrimitiveTypeCode.UInt16 => "System.UInt16",
        PrimitiveTypeCode.Int32 => "System.Int32",
        PrimitiveTypeCode.UInt32 => "System.UInt32",
        PrimitiveTypeCode.Int64 => "System.Int64",
        PrimitiveTypeCode.UInt64 => "System.UInt64",
        PrimitiveTypeCode.Single => "System.Single",
        PrimitiveTypeCode.Double => "System.Double",
        PrimitiveTypeCode.IntPtr => "System.IntPtr",
        PrimitiveTypeCode.UIntPtr => "System.UIntPtr",
        PrimitiveTypeCode.Object => "System.Object",
        PrimitiveTypeCode.String => "System.String",
        PrimitiveTypeCode.TypedReference => "System.TypedReference",
        PrimitiveTypeCode.Void => "System.Void",
        _ => throw new BadImageFormatException($"Unknown primitive type code {(byte)typeCode} in a signature."),
    };

    public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) =>
        TypeNames.Of(reader, handle);

    public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) =>
        TypeNames.Of(reader, handle);

    public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
        reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

    public string GetSZArrayType(string elementType) => MethodIdentityFormat.SzArray(elementType);

    public string GetArrayType(string elementType, ArrayShape shape) => MethodIdentityFormat.Array(elementType, shape.Rank);

    public string GetByReferenceType(string elementType) => MethodIdentityFormat.ByReference(elementType);

    public string GetPointerType(string elementType) => MethodIdentityFormat.Pointer(elementType);

    public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) =>
        MethodIdentityFormat.GenericInstance(genericType, typeArguments);

    public string GetGenericTypeParameter(object? genericContext, int index) => MethodIdentityFormat.GenericTypeParameter(index);

    public string GetGenericMethodParameter(object? genericContext, int index) => MethodIdentityFormat.GenericMethodParameter(index);

    public string GetFunctionPointerType(MethodSignature<string> signature) =>
        MethodIdentityFormat.FunctionPointer(signature.ReturnType, signature.ParameterTypes);

    public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;

    public string GetPinnedType(string elementType) => elementType;
}
