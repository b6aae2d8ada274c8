using Mono.Cecil;
using Mono.Cecil.Cil;
using Mono.Cecil.Rocks;

namespace Sealights.Coverage.Instrumentation;

/// <summary>
/// Adds the contract's <c>&lt;SealightsProbes&gt;</c> type and one entry probe per selected method
/// to a module held by Cecil. The indices are placeholders until <see cref="Renumber"/> is given
/// the RIDs of the written file.
/// </summary>
internal sealed class ProbeWriter
{
    private readonly ModuleDefinition _module;
    private readonly FieldDefinition _hits;
    private readonly Instruction _rowCount;
    private readonly List<(MethodDefinition Method, Instruction Index)> _probes = new();

    private ProbeWriter(ModuleDefinition module, FieldDefinition hits, Instruction rowCount)
    {
        _module = module;
        _hits = hits;
        _rowCount = rowCount;
    }

    /// <summary>Adds the marker type with its hit array and registering static constructor.</summary>
    public static ProbeWriter AddMarkerType(ModuleDefinition module, ProbesAssembly probes)
    {
        var system = module.TypeSystem;
        var type = new TypeDefinition(
            string.Empty,
            ProbeLayout.MarkerTypeName,
            TypeAttributes.NotPublic | TypeAttributes.Abstract | TypeAttributes.Sealed | TypeAttributes.BeforeFieldInit | TypeAttributes.Class,
            system.Object);
        var hits = new FieldDefinition(ProbeLayout.HitsFieldName, FieldAttributes.Assembly | FieldAttributes.Static | FieldAttributes.InitOnly, new ArrayType(system.Int32));
        type.Fields.Add(hits);

        var cctor = new MethodDefinition(
            ".cctor",
            MethodAttributes.Private | MethodAttributes.Static | MethodAttributes.HideBySig | MethodAttributes.SpecialName | MethodAttributes.RTSpecialName,
            system.Void);
        var rowCount = Instruction.Create(OpCodes.Ldc_I4, 0);
        var il = cctor.Body.GetILProcessor();
        il.Emit(OpCodes.Ldtoken, type);
        il.Append(rowCount);
        il.Emit(OpCodes.Call, RegisterReference(module, probes));
        il.Emit(OpCodes.Stsfld, hits);
        il.Emit(OpCodes.Ret);
        type.Methods.Add(cctor);
        module.Types.Add(type);
        return new ProbeWriter(module, hits, rowCount);
    }

    /// <summary>Inserts the entry probe before the method's first original instruction.</summary>
    public void AddProbe(MethodDefinition method)
    {
        var body = method.Body;
        body.SimplifyMacros();
        var first = body.Instructions[0];
        var index = Instruction.Create(OpCodes.Ldc_I4, 0);
        var index2 = Instruction.Create(OpCodes.Ldc_I4, 0);
        // Inserted in front of the first instruction, not in its place: branches to it, the try
        // region it may start and its sequence point keep pointing at the original instruction.
        Instruction[] probe =
        [
            Instruction.Create(OpCodes.Ldsfld, _hits),
            index,
            Instruction.Create(OpCodes.Ldelem_I4),
            Instruction.Create(OpCodes.Brtrue, first),
            Instruction.Create(OpCodes.Ldsfld, _hits),
            index2,
            Instruction.Create(OpCodes.Ldc_I4_1),
            Instruction.Create(OpCodes.Stelem_I4),
        ];
        for (var i = 0; i < probe.Length; i++)
        {
            body.Instructions.Insert(i, probe[i]);
        }

        _probes.Add((method, index));
        _probes.Add((method, index2));
    }

    /// <summary>
    /// Sets every probe's index to its method's RID − 1 and the registered count to the MethodDef
    /// rows, as the last write numbered them (Cecil assigns tokens while writing and may order rows
    /// differently from the compiler). True when something changed, i.e. the module must be written again.
    /// </summary>
    public bool Renumber()
    {
        var changed = false;
        foreach (var (method, index) in _probes)
        {
            changed |= Set(index, (int)method.MetadataToken.RID - 1);
        }

        changed |= Set(_rowCount, _module.GetTypes().Sum(t => t.Methods.Count));
        return changed;
    }

    /// <summary>Shortest encodings again (after the operands are final: ldc.i4 and branch forms).</summary>
    public void Optimize()
    {
        foreach (var method in _probes.Select(p => p.Method).Distinct())
        {
            method.Body.SimplifyMacros();
            method.Body.OptimizeMacros();
        }
    }

    private static bool Set(Instruction ldc, int value)
    {
        // Simplified back to ldc.i4 first: OptimizeMacros may have turned it into a short form.
        var current = ldc.OpCode == OpCodes.Ldc_I4 ? (int)ldc.Operand : CurrentValue(ldc);
        ldc.OpCode = OpCodes.Ldc_I4;
        ldc.Operand = value;
        return current != value;
    }

    private static int CurrentValue(Instruction ldc) => ldc.OpCode.Code switch
    {
        Code.Ldc_I4_M1 => -1,
        Code.Ldc_I4_0 => 0,
        Code.Ldc_I4_1 => 1,
        Code.Ldc_I4_2 => 2,
        Code.Ldc_I4_3 => 3,
        Code.Ldc_I4_4 => 4,
        Code.Ldc_I4_5 => 5,
        Code.Ldc_I4_6 => 6,
        Code.Ldc_I4_7 => 7,
        Code.Ldc_I4_8 => 8,
        Code.Ldc_I4_S => (sbyte)ldc.Operand,
        _ => (int)ldc.Operand,
    };

    // int32[] [Sealights.Coverage.Probes]Sealights.Coverage.Probes.ProbeRegistry::Register(valuetype System.RuntimeTypeHandle, int32),
    // with RuntimeTypeHandle from the module's own core library so no reference to the instrumenter's runtime sneaks in.
    private static MethodReference RegisterReference(ModuleDefinition module, ProbesAssembly probes)
    {
        var scope = module.AssemblyReferences.FirstOrDefault(r => r.Name == ProbesAssembly.Name);
        if (scope is null)
        {
            scope = probes.Reference();
            module.AssemblyReferences.Add(scope);
        }

        var system = module.TypeSystem;
        var registry = new TypeReference(ProbesAssembly.RegistryNamespace, ProbesAssembly.RegistryType, module, scope);
        var handle = new TypeReference("System", "RuntimeTypeHandle", module, system.CoreLibrary, valueType: true);
        var register = new MethodReference(ProbesAssembly.RegisterMethod, new ArrayType(system.Int32), registry) { HasThis = false };
        register.Parameters.Add(new ParameterDefinition(handle));
        register.Parameters.Add(new ParameterDefinition(system.Int32));
        return register;
    }
}
