using System.Diagnostics;
using Xunit.Abstractions;

namespace Sealights.Coverage.Instrumentation.Tests;

/// <summary>(c) What the written files promise: indices, ids, exclusions.</summary>
public sealed class ContractTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_probe_sets_its_methods_written_row_minus_one_although_the_rewrite_moved_rows()
    {
        using var folder = Inputs.Instrumented(Inputs.Corners);
        var path = folder.File(Inputs.Corners + ".dll");
        var context = new IsolatedLoad(folder.Path);
        try
        {
            var probes = ProbeIl.Probes(context.LoadFile(Inputs.Corners));

            Assert.NotEmpty(probes);
            Assert.All(probes, p => Assert.Equal((p.Key & 0x00FFFFFF) - 1, p.Value));
            var rows = ProbeIl.MethodDefRows(path);
            Assert.All(probes.Values, index => Assert.InRange(index, 0, rows - 1));

            // The compiler lists nested types after all top-level ones, Cecil writes each type's
            // nested types right after it: rows move, so indices from the input's tokens would be wrong.
            var before = SourceMethodCatalog.Read(Inputs.Plain(Inputs.Corners)).Methods.ToDictionary(m => m.Identity.Id, m => m.MethodTokens);
            var after = SourceMethodCatalog.Read(path).Methods.ToDictionary(m => m.Identity.Id, m => m.MethodTokens);
            var moved = before.Count(m => !m.Value.SequenceEqual(after[m.Key]));
            output.WriteLine($"{probes.Count} probes, all index = RID - 1; {moved} of {before.Count} source methods have other tokens than in the input");
            Assert.True(moved > 0, "the fixture no longer makes Cecil renumber rows, so the fix-up is untested");
        }
        finally
        {
            context.Unload();
        }
    }

    [Theory]
    [InlineData(Inputs.Corners)]
    [InlineData(Inputs.CoverageFixture)]
    [InlineData(Inputs.AgentFixture)]
    [InlineData(Inputs.Sample)]
    public void Scan_names_the_same_methods_with_the_same_lines_after_instrumenting(string name)
    {
        using var folder = Inputs.Instrumented(name);

        var plain = SourceMethodCatalog.Read(Inputs.Plain(name));
        var instrumented = SourceMethodCatalog.Read(folder.File(name + ".dll"));

        Assert.True(instrumented.HasSymbols);
        Assert.NotEmpty(plain.Methods);
        Assert.Equal(
            plain.Methods.Select(m => (m.Identity.Id, m.SourceFile, m.StartLine, m.EndLine, m.MethodTokens.Count)),
            instrumented.Methods.Select(m => (m.Identity.Id, m.SourceFile, m.StartLine, m.EndLine, m.MethodTokens.Count)));
        Assert.NotEqual(plain.Mvid, instrumented.Mvid);
    }

    [Fact]
    public void An_embedded_pdb_stays_embedded_and_maps_the_same_ids()
    {
        using var folder = new TempFolder();
        var path = folder.File(Inputs.Corners + ".dll");
        // The fixture with its PDB embedded, as DebugType=embedded builds it.
        using (var module = Mono.Cecil.ModuleDefinition.ReadModule(Inputs.Plain(Inputs.Corners), new Mono.Cecil.ReaderParameters { ReadSymbols = true }))
        {
            module.Write(path, new Mono.Cecil.WriterParameters { WriteSymbols = true, SymbolWriterProvider = new Mono.Cecil.Cil.EmbeddedPortablePdbWriterProvider() });
        }

        var plain = SourceMethodCatalog.Read(path);
        Assert.Equal(SymbolSource.Embedded, plain.Symbols);

        var result = new AssemblyInstrumenter(ProbesAssembly.Default()).Instrument(path, folder.Path);

        Assert.True(result.Outcome == InstrumentationOutcome.Instrumented, result.Describe());
        Assert.False(File.Exists(folder.File(Inputs.Corners + ".pdb")));
        var instrumented = SourceMethodCatalog.Read(path);
        Assert.Equal(SymbolSource.Embedded, instrumented.Symbols);
        Assert.Equal(plain.Methods.Select(m => (m.Identity.Id, m.StartLine, m.EndLine)), instrumented.Methods.Select(m => (m.Identity.Id, m.StartLine, m.EndLine)));
    }

    [Fact]
    public void Excluded_code_iterator_stubs_and_compiler_plumbing_carry_no_probe()
    {
        using var folder = Inputs.Instrumented(Inputs.Corners);
        var catalog = SourceMethodCatalog.Read(folder.File(Inputs.Corners + ".dll"));
        var context = new IsolatedLoad(folder.Path);
        try
        {
            var assembly = context.LoadFile(Inputs.Corners);
            var probed = ProbeIl.Probes(assembly).Keys.ToHashSet();
            string Id(int token) => catalog.TryResolve(token, out var identity) ? identity.Id : $"(no source method 0x{token:x8})";
            var probedIds = probed.Select(Id).ToHashSet();

            // [ExcludeFromCodeCoverage] on Hidden: it, and the lambda it declares, are still mapped by scan but carry no probe.
            Assert.Contains(catalog.Methods, m => m.Identity.Id.EndsWith("|Corners.Excluded|Hidden(System.Int32)", StringComparison.Ordinal));
            Assert.DoesNotContain(probedIds, id => id.Contains("|Corners.Excluded|Hidden", StringComparison.Ordinal));
            Assert.Contains(probedIds, id => id.EndsWith("|Corners.Excluded|Check()", StringComparison.Ordinal));

            // The iterator's kickoff has no probe, its MoveNext (same id) has one.
            var kickoff = assembly.GetType("Corners.Sequences")!.GetMethod("Count")!.MetadataToken;
            Assert.DoesNotContain(kickoff, probed);
            Assert.Contains(probed, t => t != kickoff && Id(t).EndsWith("|Corners.Sequences|Count(System.Int32)", StringComparison.Ordinal));

            // Every probe maps to a source method: auto-properties, closures' constructors and record plumbing have none.
            Assert.DoesNotContain(probedIds, id => id.StartsWith("(no source method", StringComparison.Ordinal));
            var getX = assembly.GetType("Corners.Point")!.GetProperty("X")!.GetMethod!.MetadataToken;
            Assert.DoesNotContain(getX, probed);
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void An_instrumented_assembly_is_reported_already_instrumented_and_left_alone()
    {
        using var folder = Inputs.Instrumented(Inputs.Sample);
        var path = folder.File(Inputs.Sample + ".dll");
        var bytes = File.ReadAllBytes(path);

        using var output2 = new TempFolder();
        var result = new AssemblyInstrumenter(ProbesAssembly.Default()).Instrument(path, output2.Path, copyUnchanged: true);

        Assert.Equal(InstrumentationOutcome.AlreadyInstrumented, result.Outcome);
        Assert.True(result.Probes > 0);
        Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.Equal(bytes, File.ReadAllBytes(output2.File(Inputs.Sample + ".dll")));
    }

    [Fact]
    public void A_mixed_mode_assembly_is_refused_and_not_written()
    {
        // C++/CLI cannot be built here; its mark is what the instrumenter reads: no ILOnly flag.
        using var folder = Inputs.CopyOf(Inputs.Corners);
        var path = folder.File(Inputs.Corners + ".dll");
        var bytes = File.ReadAllBytes(path);
        int corHeader;
        using (var pe = new System.Reflection.PortableExecutable.PEReader(new MemoryStream(bytes)))
        {
            corHeader = pe.PEHeaders.CorHeaderStartOffset;
        }

        // IMAGE_COR20_HEADER: cb, runtime version (2 x u16), metadata directory (8 bytes), then Flags.
        bytes[corHeader + 16] &= 0xFE;
        File.WriteAllBytes(path, bytes);
        using var target = new TempFolder();

        var result = new AssemblyInstrumenter(ProbesAssembly.Default()).Instrument(path, target.Path, copyUnchanged: true);

        Assert.Equal(InstrumentationOutcome.Refused, result.Outcome);
        Assert.Contains("mixed-mode", result.Reason);
        Assert.Empty(Directory.GetFiles(target.Path));
        Assert.Equal(bytes, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_rewrite_that_breaks_a_body_is_caught_by_the_jit_check()
    {
        // The control for IlCorrectnessTests: an entry `pop` on an empty stack must be refused by the JIT.
        using var folder = Inputs.Instrumented(Inputs.Corners);
        var path = folder.File(Inputs.Corners + ".dll");
        using (var module = Mono.Cecil.ModuleDefinition.ReadModule(new MemoryStream(File.ReadAllBytes(path))))
        {
            var method = module.GetType("Corners.Hot").Methods.Single(m => m.Name == "Twice");
            method.Body.Instructions.Insert(0, Mono.Cecil.Cil.Instruction.Create(Mono.Cecil.Cil.OpCodes.Pop));
            module.Write(path);
        }

        var context = new IsolatedLoad(folder.Path);
        try
        {
            var twice = context.LoadFile(Inputs.Corners).GetType("Corners.Hot")!.GetMethod("Twice")!;
            Assert.Throws<InvalidProgramException>(() => System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(twice.MethodHandle));
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void Instrumenting_costs_little_at_publish()
    {
        foreach (var name in new[] { Inputs.Sample, Inputs.Corners })
        {
            using var folder = Inputs.CopyOf(name);
            var instrumenter = new AssemblyInstrumenter(ProbesAssembly.Default());
            var clock = Stopwatch.StartNew();
            var result = instrumenter.Instrument(folder.File(name + ".dll"), folder.Path);
            clock.Stop();
            Assert.Equal(InstrumentationOutcome.Instrumented, result.Outcome);
            output.WriteLine($"{name}: {result.Probes} of {result.Methods} methods probed in {clock.ElapsedMilliseconds} ms; {new FileInfo(Inputs.Plain(name)).Length} -> {new FileInfo(folder.File(name + ".dll")).Length} bytes");
        }
    }
}
