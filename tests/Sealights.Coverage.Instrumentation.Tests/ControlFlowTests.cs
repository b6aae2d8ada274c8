using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Sealights.Coverage.Instrumentation.Tests;

/// <summary>
/// The probe goes in front of the first instruction without taking its place: a try region that
/// starts there, and a branch back to it, still start at / target the original instruction; a
/// <c>tail.</c> call (C# never emits one, so the test writes it) stays a tail call.
/// </summary>
public sealed class ControlFlowTests
{
    private const int ProbeInstructions = 8;

    [Fact]
    public void A_try_at_the_first_instruction_still_starts_at_the_original_instruction()
    {
        var (plain, instrumented) = BothBodies("Corners.Errors", "TryAtStart");

        Assert.Same(plain.Instructions[0], plain.ExceptionHandlers[0].TryStart);
        Assert.Equal(ProbeLength(instrumented), instrumented.ExceptionHandlers[0].TryStart.Offset);
        Assert.Same(instrumented.Instructions[ProbeInstructions], instrumented.ExceptionHandlers[0].TryStart);
        Assert.Equal(plain.Instructions[0].OpCode, instrumented.ExceptionHandlers[0].TryStart.OpCode);
    }

    [Fact]
    public void A_branch_to_the_first_instruction_still_targets_it_not_the_probe()
    {
        var (plain, instrumented) = BothBodies("Corners.Errors", "LoopAtStart");

        Assert.Contains(plain.Instructions, i => i.Operand == plain.Instructions[0]);
        var backEdges = instrumented.Instructions.Skip(ProbeInstructions).Where(i => i.Operand is Instruction).ToList();
        Assert.Contains(backEdges, i => i.Operand == instrumented.Instructions[ProbeInstructions]);
        Assert.DoesNotContain(instrumented.Instructions, i => i.Operand == instrumented.Instructions[0]);
        // The probe's own branch skips the store and lands on the original first instruction.
        Assert.Same(instrumented.Instructions[ProbeInstructions], instrumented.Instructions[3].Operand);
    }

    [Fact]
    public void A_tail_call_stays_a_tail_call_and_runs()
    {
        using var folder = new TempFolder();
        var path = folder.File("Generated.dll");
        WriteTailCallAssembly(path);

        var result = new AssemblyInstrumenter(ProbesAssembly.Default()).Instrument(path, folder.Path);

        Assert.Equal(InstrumentationOutcome.Instrumented, result.Outcome);
        Assert.Equal(2, result.Probes);
        using (var module = ModuleDefinition.ReadModule(new MemoryStream(File.ReadAllBytes(path))))
        {
            var caller = module.GetType("Generated.Calls").Methods.Single(m => m.Name == "Caller").Body.Instructions;
            var tail = caller.Single(i => i.OpCode == OpCodes.Tail);
            Assert.Equal(OpCodes.Call, tail.Next.OpCode);
            Assert.Equal(OpCodes.Ret, tail.Next.Next.OpCode);
        }

        var context = new IsolatedLoad(folder.Path);
        try
        {
            var caller = context.LoadFile("Generated").GetType("Generated.Calls")!.GetMethod("Caller")!;
            Assert.Equal(42, caller.Invoke(null, [41]));
            var probes = ProbeIl.Probes(caller.Module.Assembly);
            Assert.Equal(2, probes.Count);
        }
        finally
        {
            context.Unload();
        }
    }

    private static (MethodBody Plain, MethodBody Instrumented) BothBodies(string type, string method)
    {
        using var folder = Inputs.Instrumented(Inputs.Corners);
        var plain = ModuleDefinition.ReadModule(new MemoryStream(File.ReadAllBytes(Inputs.Plain(Inputs.Corners))));
        var instrumented = ModuleDefinition.ReadModule(new MemoryStream(File.ReadAllBytes(folder.File(Inputs.Corners + ".dll"))));
        return (plain.GetType(type).Methods.Single(m => m.Name == method).Body, instrumented.GetType(type).Methods.Single(m => m.Name == method).Body);
    }

    private static int ProbeLength(MethodBody body) => body.Instructions[ProbeInstructions].Offset;

    // static int Callee(int x) => x + 1;   static int Caller(int x) => tail. call Callee(x); ret
    private static void WriteTailCallAssembly(string path)
    {
        using var assembly = AssemblyDefinition.CreateAssembly(new AssemblyNameDefinition("Generated", new Version(1, 0, 0, 0)), "Generated", ModuleKind.Dll);
        var module = assembly.MainModule;
        var document = new Document("/src/Generated/Calls.cs") { Language = DocumentLanguage.CSharp };
        var type = new TypeDefinition("Generated", "Calls", TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed | TypeAttributes.Class, module.TypeSystem.Object);
        module.Types.Add(type);

        var callee = Method(type, "Callee", document, 1, il =>
        {
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldc_I4_1);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Ret);
        });
        Method(type, "Caller", document, 2, il =>
        {
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Tail);
            il.Emit(OpCodes.Call, callee);
            il.Emit(OpCodes.Ret);
        });
        assembly.Write(path, new WriterParameters { WriteSymbols = true, SymbolWriterProvider = new PortablePdbWriterProvider() });
    }

    private static MethodDefinition Method(TypeDefinition type, string name, Document document, int line, Action<ILProcessor> body)
    {
        var system = type.Module.TypeSystem;
        var method = new MethodDefinition(name, MethodAttributes.Public | MethodAttributes.Static | MethodAttributes.HideBySig, system.Int32);
        method.Parameters.Add(new ParameterDefinition("x", ParameterAttributes.None, system.Int32));
        body(method.Body.GetILProcessor());
        method.DebugInformation.SequencePoints.Add(new SequencePoint(method.Body.Instructions[0], document) { StartLine = line, EndLine = line, StartColumn = 5, EndColumn = 30 });
        type.Methods.Add(method);
        return method;
    }
}
