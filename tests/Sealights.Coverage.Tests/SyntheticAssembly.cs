using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Text;

namespace Sealights.Coverage.Tests;

/// <summary>
/// Metadata (and optionally a portable PDB's state-machine table) written with
/// System.Reflection.Metadata's builder, for shapes a C# compiler does not produce on demand:
/// attributes embedded as type definitions, attributes of the same name in another namespace,
/// malformed attribute blobs, a PDB row that names a kickoff the attribute does not.
/// </summary>
public sealed class SyntheticAssembly
{
    public const string Name = "Synthetic";
    public const string CompilerServices = "System.Runtime.CompilerServices";

    private readonly List<SyntheticType> _types = [];

    public SyntheticType Type(string @namespace, string name, SyntheticType? declaring = null)
    {
        var type = new SyntheticType(@namespace, name, declaring);
        _types.Add(type);
        return type;
    }

    /// <summary>A custom attribute blob for a constructor taking one <c>System.Type</c>: prolog, SerString, no named arguments.</summary>
    public static byte[] TypeOf(string serializedTypeName)
    {
        var name = Encoding.UTF8.GetBytes(serializedTypeName);
        Assert.True(name.Length < 128, "one-byte length prefix only");
        return [1, 0, (byte)name.Length, .. name, 0, 0];
    }

    /// <summary>The blob of a constructor without arguments.</summary>
    public static byte[] NoArguments => [1, 0, 0, 0];

    /// <summary>Writes the metadata alone (no PDB).</summary>
    public Image Build() => Write(null);

    /// <summary>Writes the metadata and a PDB whose StateMachineMethod table has these rows.</summary>
    public Image BuildWithPdb(params (SyntheticMethod MoveNext, SyntheticMethod Kickoff)[] pdbKickoffs) => Write(pdbKickoffs);

    private Image Write((SyntheticMethod MoveNext, SyntheticMethod Kickoff)[]? pdbKickoffs)
    {
        var builder = new MetadataBuilder();
        builder.AddModule(0, builder.GetOrAddString(Name + ".dll"), builder.GetOrAddGuid(Guid.NewGuid()), default, default);
        builder.AddAssembly(builder.GetOrAddString(Name), new Version(1, 0, 0, 0), default, default, 0, AssemblyHashAlgorithm.None);
        var runtime = builder.AddAssemblyReference(builder.GetOrAddString("System.Runtime"), new Version(8, 0, 0, 0), default, default, 0, default);
        var objectType = builder.AddTypeReference(runtime, builder.GetOrAddString("System"), builder.GetOrAddString("Object"));
        var attributeType = builder.AddTypeReference(runtime, builder.GetOrAddString("System"), builder.GetOrAddString("Attribute"));
        var voidSignature = new BlobBuilder();
        new BlobEncoder(voidSignature).MethodSignature(isInstanceMethod: true).Parameters(0, r => r.Void(), _ => { });
        var signature = builder.GetOrAddBlob(voidSignature);

        // Embedded attributes are type definitions of their own, each with a .ctor, after the declared types.
        var attributes = _types.SelectMany(t => t.Methods).SelectMany(m => m.Attributes).ToList();
        var embedded = attributes.Where(a => a.Kind == AttributeKind.Embedded).Select(a => (a.Namespace, a.Name)).Distinct().ToList();

        var methodRow = 1;
        builder.AddTypeDefinition(default, default, builder.GetOrAddString("<Module>"), default, MetadataTokens.FieldDefinitionHandle(1), MetadataTokens.MethodDefinitionHandle(1));
        foreach (var type in _types)
        {
            var handle = builder.AddTypeDefinition(
                type.Declaring is null ? TypeAttributes.Public : TypeAttributes.NestedPrivate,
                builder.GetOrAddString(type.Declaring is null ? type.Namespace : ""),
                builder.GetOrAddString(type.Name),
                objectType,
                MetadataTokens.FieldDefinitionHandle(1),
                MetadataTokens.MethodDefinitionHandle(methodRow));
            type.Handle = handle;
            foreach (var method in type.Methods)
            {
                method.Handle = builder.AddMethodDefinition(MethodAttributes.Public, MethodImplAttributes.IL, builder.GetOrAddString(method.Name), signature, -1, MetadataTokens.ParameterHandle(1));
                methodRow++;
            }
        }

        var embeddedConstructors = new Dictionary<(string, string), EntityHandle>();
        foreach (var (ns, name) in embedded)
        {
            builder.AddTypeDefinition(TypeAttributes.NotPublic, builder.GetOrAddString(ns), builder.GetOrAddString(name), attributeType, MetadataTokens.FieldDefinitionHandle(1), MetadataTokens.MethodDefinitionHandle(methodRow));
            embeddedConstructors[(ns, name)] = builder.AddMethodDefinition(MethodAttributes.Public | MethodAttributes.SpecialName | MethodAttributes.RTSpecialName, MethodImplAttributes.IL, builder.GetOrAddString(".ctor"), signature, -1, MetadataTokens.ParameterHandle(1));
            methodRow++;
        }

        foreach (var type in _types.Where(t => t.Declaring is not null))
        {
            builder.AddNestedType(type.Handle, type.Declaring!.Handle);
        }

        foreach (var type in _types)
        {
            foreach (var method in type.Methods)
            {
                foreach (var attribute in method.Attributes)
                {
                    var constructor = attribute.Kind switch
                    {
                        AttributeKind.Embedded => embeddedConstructors[(attribute.Namespace, attribute.Name)],
                        AttributeKind.Referenced => builder.AddMemberReference(
                            builder.AddTypeReference(runtime, builder.GetOrAddString(attribute.Namespace), builder.GetOrAddString(attribute.Name)),
                            builder.GetOrAddString(".ctor"),
                            signature),
                        _ => builder.AddMemberReference(GenericInstance(builder, runtime, attribute), builder.GetOrAddString(".ctor"), signature),
                    };
                    builder.AddCustomAttribute(method.Handle, constructor, builder.GetOrAddBlob(attribute.Value));
                }
            }
        }

        var metadata = new BlobBuilder();
        new MetadataRootBuilder(builder).Serialize(metadata, 0, 0);
        var metadataProvider = MetadataReaderProvider.FromMetadataImage(metadata.ToImmutableArray());
        if (pdbKickoffs is null)
        {
            return new Image(metadataProvider, null);
        }

        var pdb = new MetadataBuilder();
        for (var row = 1; row < methodRow; row++)
        {
            pdb.AddMethodDebugInformation(default, default);
        }

        foreach (var (moveNext, kickoff) in pdbKickoffs)
        {
            pdb.AddStateMachineMethod(moveNext.Handle, kickoff.Handle);
        }

        var pdbBlob = new BlobBuilder();
        new PortablePdbBuilder(pdb, builder.GetRowCounts(), default).Serialize(pdbBlob);
        return new Image(metadataProvider, MetadataReaderProvider.FromPortablePdbImage(pdbBlob.ToImmutableArray()));
    }

    // A generic attribute's constructor belongs to a TypeSpec (GenericAttribute<int>), neither a TypeRef nor a TypeDef.
    private static EntityHandle GenericInstance(MetadataBuilder builder, AssemblyReferenceHandle runtime, SyntheticAttribute attribute)
    {
        var open = builder.AddTypeReference(runtime, builder.GetOrAddString(attribute.Namespace), builder.GetOrAddString(attribute.Name + "`1"));
        var spec = new BlobBuilder();
        new BlobEncoder(spec).TypeSpecificationSignature().GenericInstantiation(open, 1, isValueType: false).AddArgument().Int32();
        return builder.AddTypeSpecification(builder.GetOrAddBlob(spec));
    }

    public enum AttributeKind
    {
        /// <summary>A MemberRef constructor of a TypeRef (an attribute from another assembly).</summary>
        Referenced,

        /// <summary>A MethodDef constructor of a TypeDef (the compiler embedded the attribute).</summary>
        Embedded,

        /// <summary>A MemberRef constructor of a TypeSpec (a generic attribute).</summary>
        Generic,
    }

    public sealed record SyntheticAttribute(AttributeKind Kind, string Namespace, string Name, byte[] Value);

    public sealed class SyntheticType(string @namespace, string name, SyntheticType? declaring)
    {
        public string Namespace { get; } = @namespace;

        public string Name { get; } = name;

        public SyntheticType? Declaring { get; } = declaring;

        public List<SyntheticMethod> Methods { get; } = [];

        public TypeDefinitionHandle Handle { get; set; }

        public SyntheticMethod Method(string name, params SyntheticAttribute[] attributes)
        {
            var method = new SyntheticMethod(name, attributes);
            Methods.Add(method);
            return method;
        }
    }

    public sealed class SyntheticMethod(string name, SyntheticAttribute[] attributes)
    {
        public string Name { get; } = name;

        public SyntheticAttribute[] Attributes { get; } = attributes;

        public MethodDefinitionHandle Handle { get; set; }
    }

    /// <summary>The readers of one build; they read the providers' memory, so dispose after use.</summary>
    public sealed class Image(MetadataReaderProvider metadata, MetadataReaderProvider? pdb) : IDisposable
    {
        public MetadataReader Metadata { get; } = metadata.GetMetadataReader();

        public MetadataReader? Pdb { get; } = pdb?.GetMetadataReader();

        public CustomAttributeHandleCollection AttributesOf(SyntheticMethod method) =>
            Metadata.GetMethodDefinition(method.Handle).GetCustomAttributes();

        public void Dispose()
        {
            metadata.Dispose();
            pdb?.Dispose();
        }
    }
}
