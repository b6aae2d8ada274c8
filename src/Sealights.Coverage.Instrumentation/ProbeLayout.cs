using System.Buffers.Binary;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Sealights.Coverage.Instrumentation;

/// <summary>
/// The probes of a written module as its bytes say, read with System.Reflection.Metadata (not
/// Cecil, which wrote them): the marker type, the row count its static constructor registers, and
/// for each method whose body starts with the probe, the index the probe sets. This is how a write
/// is verified (index = MethodDef RID − 1, count = rows) and how an already instrumented module is
/// described.
/// </summary>
internal sealed class ProbeLayout
{
    /// <summary>The marker type's name, in the global namespace (README of Sealights.Coverage.Probes).</summary>
    public const string MarkerTypeName = "<SealightsProbes>";

    /// <summary>Its hit array.</summary>
    public const string HitsFieldName = "Hits";

    private ProbeLayout(string assemblyName, Guid mvid, int methodDefRows, int registeredRows, IReadOnlyDictionary<int, int> probeIndexByRid)
    {
        AssemblyName = assemblyName;
        Mvid = mvid;
        MethodDefRows = methodDefRows;
        RegisteredRows = registeredRows;
        ProbeIndexByRid = probeIndexByRid;
    }

    public string AssemblyName { get; }

    public Guid Mvid { get; }

    /// <summary>Rows of the MethodDef table.</summary>
    public int MethodDefRows { get; }

    /// <summary>The count the marker's static constructor passes to Register; −1 when its body is not the contract's.</summary>
    public int RegisteredRows { get; }

    /// <summary>MethodDef RID → the index its entry probe sets.</summary>
    public IReadOnlyDictionary<int, int> ProbeIndexByRid { get; }

    /// <summary>Every way the module departs from the contract; empty when it keeps it.</summary>
    public IReadOnlyList<string> Violations()
    {
        var violations = new List<string>();
        if (RegisteredRows != MethodDefRows)
        {
            violations.Add($"{MarkerTypeName}..cctor registers {RegisteredRows} rows, the MethodDef table has {MethodDefRows}");
        }

        foreach (var (rid, index) in ProbeIndexByRid)
        {
            if (index != rid - 1)
            {
                violations.Add($"the probe of method 0x{0x06000000 | rid:x8} sets index {index}, not {rid - 1}");
            }
        }

        return violations;
    }

    /// <summary>Reads the probes of an image that carries the marker; null when it does not.</summary>
    public static ProbeLayout? Read(byte[] image)
    {
        using var pe = new PEReader(new MemoryStream(image, writable: false));
        var metadata = pe.GetMetadataReader();
        if (FindMarker(metadata) is not { } marker)
        {
            return null;
        }

        var hits = default(FieldDefinitionHandle);
        foreach (var field in metadata.GetTypeDefinition(marker).GetFields())
        {
            if (metadata.StringComparer.Equals(metadata.GetFieldDefinition(field).Name, HitsFieldName))
            {
                hits = field;
            }
        }

        var hitsToken = hits.IsNil ? 0 : MetadataTokens.GetToken(hits);
        var registered = -1;
        var probes = new Dictionary<int, int>();
        foreach (var handle in metadata.MethodDefinitions)
        {
            var method = metadata.GetMethodDefinition(handle);
            if (method.RelativeVirtualAddress == 0)
            {
                continue;
            }

            var il = pe.GetMethodBody(method.RelativeVirtualAddress).GetILBytes() ?? [];
            if (method.GetDeclaringType() == marker && metadata.StringComparer.Equals(method.Name, ".cctor"))
            {
                registered = RegisteredCount(il);
            }
            else if (hitsToken != 0 && ProbeIndex(il, hitsToken) is { } index)
            {
                probes[MetadataTokens.GetRowNumber(handle)] = index;
            }
        }

        var name = metadata.GetString(metadata.GetAssemblyDefinition().Name);
        var mvid = metadata.GetGuid(metadata.GetModuleDefinition().Mvid);
        return new ProbeLayout(name, mvid, metadata.GetTableRowCount(TableIndex.MethodDef), registered, probes);
    }

    /// <summary>The marker type: a top-level type named <see cref="MarkerTypeName"/> in the global namespace.</summary>
    public static TypeDefinitionHandle? FindMarker(MetadataReader metadata)
    {
        foreach (var handle in metadata.TypeDefinitions)
        {
            var type = metadata.GetTypeDefinition(handle);
            if (type.GetDeclaringType().IsNil
                && metadata.StringComparer.Equals(type.Name, MarkerTypeName)
                && metadata.StringComparer.Equals(type.Namespace, string.Empty))
            {
                return handle;
            }
        }

        return null;
    }

    // ldsfld Hits; ldc.i4 <index>; ldelem.i4; brtrue(.s) ...
    private static int? ProbeIndex(byte[] il, int hitsToken)
    {
        if (il.Length < 5 || il[0] != 0x7E || BinaryPrimitives.ReadInt32LittleEndian(il.AsSpan(1)) != hitsToken)
        {
            return null;
        }

        var at = 5;
        if (ReadLdcI4(il, ref at) is not { } index || at >= il.Length || il[at] != 0x94)
        {
            return null;
        }

        at++;
        return at < il.Length && il[at] is 0x2D or 0x3A ? index : null;
    }

    // ldtoken <marker>; ldc.i4 <rows>; call Register; stsfld Hits; ret
    private static int RegisteredCount(byte[] il)
    {
        var at = 5;
        return il.Length > 5 && il[0] == 0xD0 && ReadLdcI4(il, ref at) is { } rows && at < il.Length && il[at] == 0x28 ? rows : -1;
    }

    private static int? ReadLdcI4(byte[] il, ref int at)
    {
        if (at >= il.Length)
        {
            return null;
        }

        var opcode = il[at];
        switch (opcode)
        {
            case >= 0x15 and <= 0x1E: // ldc.i4.m1 .. ldc.i4.8
                at++;
                return opcode - 0x16;
            case 0x1F when at + 1 < il.Length: // ldc.i4.s
                at += 2;
                return (sbyte)il[at - 1];
            case 0x20 when at + 4 < il.Length: // ldc.i4
                at += 5;
                return BinaryPrimitives.ReadInt32LittleEndian(il.AsSpan(at - 4));
            default:
                return null;
        }
    }
}
