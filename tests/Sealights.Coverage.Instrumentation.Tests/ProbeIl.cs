using System.Buffers.Binary;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Sealights.Coverage.Instrumentation.Tests;

/// <summary>
/// The tests' own reading of probes, through reflection on the loaded assembly (independent of the
/// instrumenter's System.Reflection.Metadata check): which methods start with the contract's probe,
/// and the index it sets.
/// </summary>
internal static class ProbeIl
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Method token → probe index, for every method of the assembly whose body starts with a probe.</summary>
    public static Dictionary<int, int> Probes(Assembly assembly)
    {
        var probes = new Dictionary<int, int>();
        foreach (var type in assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
            {
                if (method.GetMethodBody()?.GetILAsByteArray() is { } il && Index(method.Module, il) is { } index)
                {
                    probes[method.MetadataToken] = index;
                }
            }
        }

        return probes;
    }

    public static int MethodDefRows(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        return pe.GetMetadataReader().GetTableRowCount(TableIndex.MethodDef);
    }

    // ldsfld <SealightsProbes>::Hits; ldc.i4(.s|.N) index; ldelem.i4; brtrue(.s); ldsfld Hits; ldc.i4 index; ldc.i4.1; stelem.i4
    private static int? Index(Module module, byte[] il)
    {
        if (il.Length < 5 || il[0] != OpCodes.Ldsfld.Value)
        {
            return null;
        }

        var field = module.ResolveField(BinaryPrimitives.ReadInt32LittleEndian(il.AsSpan(1)));
        if (field is not { Name: "Hits", DeclaringType.Name: "<SealightsProbes>" })
        {
            return null;
        }

        var at = 5;
        var index = Ldc(il, ref at);
        Assert.True(il[at] == OpCodes.Ldelem_I4.Value, "ldelem.i4 follows the index");
        Assert.True(il[at + 1] == (byte)OpCodes.Brtrue_S.Value || il[at + 1] == (byte)OpCodes.Brtrue.Value, "brtrue follows");
        at += il[at + 1] == (byte)OpCodes.Brtrue_S.Value ? 3 : 6;
        Assert.True(il[at] == OpCodes.Ldsfld.Value, "the store reloads Hits");
        at += 5;
        Assert.Equal(index, Ldc(il, ref at));
        Assert.True(il[at] == OpCodes.Ldc_I4_1.Value && il[at + 1] == OpCodes.Stelem_I4.Value, "stores 1");
        return index;
    }

    private static int Ldc(byte[] il, ref int at)
    {
        var opcode = il[at];
        if (opcode is >= 0x15 and <= 0x1E)
        {
            at++;
            return opcode - 0x16;
        }

        if (opcode == OpCodes.Ldc_I4_S.Value)
        {
            at += 2;
            return (sbyte)il[at - 1];
        }

        Assert.Equal(OpCodes.Ldc_I4.Value, opcode);
        at += 5;
        return BinaryPrimitives.ReadInt32LittleEndian(il.AsSpan(at - 4));
    }
}
