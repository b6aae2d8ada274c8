using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Sealights.Coverage.Instrumentation;

/// <summary>
/// Rewrites one assembly and its portable PDB with entry probes, as
/// src/Sealights.Coverage.Probes/README.md specifies, and verifies the written bytes before they
/// replace anything.
/// </summary>
public sealed class AssemblyInstrumenter(ProbesAssembly probes)
{
    // Cecil numbers rows while writing; a second write with the final indices is stable, so more
    // than a few rounds means something is wrong.
    private const int MaxWrites = 4;

    /// <summary>
    /// Instruments <paramref name="input"/> into <paramref name="outputDirectory"/> (the same file
    /// when that is the input's folder), the PDB beside it. When <paramref name="copyUnchanged"/>,
    /// an assembly left as it is (skipped, already instrumented) is copied there unchanged so every
    /// input has an output. A refused file is never written.
    /// </summary>
    public InstrumentationResult Instrument(string input, string outputDirectory, bool copyUnchanged = false)
    {
        input = Path.GetFullPath(input);
        byte[] image;
        try
        {
            image = File.ReadAllBytes(input);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new InstrumentationResult(input, null, InstrumentationOutcome.Refused, $"cannot be read ({e.Message})");
        }

        var check = InputCheck.Of(input, image);
        var result = Instrument(input, image, check, outputDirectory);
        if (copyUnchanged && result.Outcome is InstrumentationOutcome.Skipped or InstrumentationOutcome.AlreadyInstrumented)
        {
            CopyUnchanged(input, check.PdbPath, outputDirectory);
            result = result with { OutputFile = Path.Combine(Path.GetFullPath(outputDirectory), Path.GetFileName(input)) };
        }

        return result;
    }

    private InstrumentationResult Instrument(string input, byte[] image, InputCheck check, string outputDirectory)
    {
        if (check.Refusal is { } refusal)
        {
            return new InstrumentationResult(input, check.AssemblyName, InstrumentationOutcome.Refused, refusal);
        }

        if (check.AlreadyInstrumented)
        {
            var existing = ProbeLayout.Read(image)!;
            return new InstrumentationResult(input, check.AssemblyName, InstrumentationOutcome.AlreadyInstrumented, check.Skip, existing.MethodDefRows, existing.ProbeIndexByRid.Count, existing.Mvid);
        }

        if (check.Skip is { } skip)
        {
            return Skipped(input, check, skip);
        }

        if (check.AssemblyName == ProbesAssembly.Name)
        {
            return Skipped(input, check, "the probes' own runtime library");
        }

        if (check.PdbPath is null && !check.EmbeddedPdb)
        {
            return Skipped(input, check, "no matching portable PDB (next to it or embedded): no source methods to map");
        }

        var expectedPdbName = check.AssemblyName + ".pdb";
        if (check.PdbPath is { } pdbPath && Path.GetFileName(pdbPath) != expectedPdbName)
        {
            return Skipped(input, check, $"its PDB is {Path.GetFileName(pdbPath)}, not {expectedPdbName}: the rewritten assembly would not find it");
        }

        SourceMethodCatalog catalog;
        try
        {
            catalog = SourceMethodCatalog.Read(input);
        }
        catch (AssemblyReadException e)
        {
            return new InstrumentationResult(input, check.AssemblyName, InstrumentationOutcome.Refused, e.Message);
        }

        var sourceTokens = catalog.Methods.SelectMany(m => m.MethodTokens).ToHashSet();
        try
        {
            return Rewrite(input, image, check, sourceTokens, outputDirectory);
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or ArgumentException or NotSupportedException or AssemblyResolutionException or SymbolsNotMatchingException or IOException)
        {
            return new InstrumentationResult(input, check.AssemblyName, InstrumentationOutcome.Refused, $"cannot be rewritten ({e.GetType().Name}: {e.Message})");
        }
    }

    private InstrumentationResult Rewrite(string input, byte[] image, InputCheck check, HashSet<int> sourceTokens, string outputDirectory)
    {
        using var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(Path.GetDirectoryName(input)!);
        var pdbIn = check.PdbPath is { } pdbPath ? new MemoryStream(File.ReadAllBytes(pdbPath), writable: false) : null;
        using var module = ModuleDefinition.ReadModule(new MemoryStream(image, writable: false), new ReaderParameters
        {
            ReadingMode = ReadingMode.Immediate,
            ReadSymbols = true,
            SymbolStream = pdbIn,
            SymbolReaderProvider = pdbIn is null ? new EmbeddedPortablePdbReaderProvider() : new PortablePdbReaderProvider(),
            AssemblyResolver = resolver,
        });

        if (ProbeSelection.Has(module.Assembly))
        {
            return Skipped(input, check, "[ExcludeFromCodeCoverage] on the assembly");
        }

        var selected = ProbeSelection.Select(module, sourceTokens);
        if (selected.Count == 0)
        {
            return Skipped(input, check, "no source method to probe");
        }

        var writer = ProbeWriter.AddMarkerType(module, probes);
        foreach (var method in selected)
        {
            writer.AddProbe(method);
        }

        writer.Optimize();
        var written = Write(module, check.EmbeddedPdb);
        var writes = 1;
        while (writer.Renumber())
        {
            if (++writes > MaxWrites)
            {
                throw new InvalidOperationException($"method rows still move after {MaxWrites} writes");
            }

            writer.Optimize();
            written = Write(module, check.EmbeddedPdb);
        }

        var layout = ProbeLayout.Read(written.Assembly) ?? throw new InvalidOperationException("the written module has no marker type");
        var violations = layout.Violations();
        if (violations.Count > 0 || layout.ProbeIndexByRid.Count != selected.Count)
        {
            throw new InvalidOperationException(
                $"the written module breaks the probe contract ({layout.ProbeIndexByRid.Count} probes found, {selected.Count} written): {string.Join("; ", violations.Take(3))}");
        }

        Directory.CreateDirectory(outputDirectory);
        var output = Path.Combine(Path.GetFullPath(outputDirectory), Path.GetFileName(input));
        if (written.Pdb is { } pdb)
        {
            ReplaceFile(Path.Combine(Path.GetFullPath(outputDirectory), check.AssemblyName + ".pdb"), pdb);
        }

        ReplaceFile(output, written.Assembly);
        return new InstrumentationResult(input, check.AssemblyName, InstrumentationOutcome.Instrumented, null, layout.MethodDefRows, selected.Count, layout.Mvid, output);
    }

    private static (byte[] Assembly, byte[]? Pdb) Write(ModuleDefinition module, bool embeddedPdb)
    {
        using var assembly = new MemoryStream();
        using var pdb = new MemoryStream();
        module.Write(assembly, new WriterParameters
        {
            WriteSymbols = true,
            SymbolWriterProvider = embeddedPdb ? new EmbeddedPdbToStream() : new PortablePdbWriterProvider(),
            SymbolStream = embeddedPdb ? null : pdb,
            DeterministicMvid = true,
        });
        return (assembly.ToArray(), embeddedPdb ? null : pdb.ToArray());
    }

    // Written next to the target and moved over it: a failure never leaves a half-written assembly.
    private static void ReplaceFile(string path, byte[] bytes)
    {
        var temporary = path + ".sl-instrument.tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }

    private static void CopyUnchanged(string input, string? pdbPath, string outputDirectory)
    {
        var directory = Path.GetFullPath(outputDirectory);
        if (string.Equals(Path.GetDirectoryName(input), directory.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
        {
            return;
        }

        Directory.CreateDirectory(directory);
        File.Copy(input, Path.Combine(directory, Path.GetFileName(input)), overwrite: true);
        if (pdbPath is not null)
        {
            File.Copy(pdbPath, Path.Combine(directory, Path.GetFileName(pdbPath)), overwrite: true);
        }
    }

    private static InstrumentationResult Skipped(string input, InputCheck check, string reason) =>
        new(input, check.AssemblyName, InstrumentationOutcome.Skipped, reason);

    // Cecil's embedded-PDB writer demands a file name it never uses; writing to memory has none.
    private sealed class EmbeddedPdbToStream : ISymbolWriterProvider
    {
        private readonly EmbeddedPortablePdbWriterProvider _inner = new();

        public ISymbolWriter GetSymbolWriter(ModuleDefinition module, string fileName) =>
            _inner.GetSymbolWriter(module, string.IsNullOrEmpty(fileName) ? module.Name : fileName);

        public ISymbolWriter GetSymbolWriter(ModuleDefinition module, Stream symbolStream) => throw new NotSupportedException();
    }
}
