using System.Buffers.Binary;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Sealights.Coverage.Metadata;

/// <summary>
/// An assembly and its portable PDB read fully into memory, so no file stays open or locked
/// while (or after) the agent works with it; every read failure surfaces as <see cref="AssemblyReadException"/>.
/// </summary>
internal sealed class AssemblyImage : IDisposable
{
    // A portable PDB is a metadata blob: it starts with the ECMA-335 signature "BSJB".
    private const uint PortablePdbSignature = 0x424A5342;

    private readonly PEReader _pe;
    private readonly MetadataReaderProvider? _pdbProvider;

    private AssemblyImage(string path, PEReader pe, MetadataReader metadata, MetadataReaderProvider? pdbProvider, SymbolSource symbols)
    {
        FilePath = path;
        _pe = pe;
        Metadata = metadata;
        _pdbProvider = pdbProvider;
        Pdb = pdbProvider?.GetMetadataReader();
        Symbols = symbols;
    }

    public string FilePath { get; }

    public MetadataReader Metadata { get; }

    public MetadataReader? Pdb { get; }

    public SymbolSource Symbols { get; }

    public static AssemblyImage Open(string path)
    {
        PEReader? pe = null;
        try
        {
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                pe = new PEReader(file, PEStreamOptions.PrefetchEntireImage);
            }

            if (!pe.HasMetadata)
            {
                throw new AssemblyReadException(path, "not a managed assembly (no CLI metadata).");
            }

            var metadata = pe.GetMetadataReader();
            var symbols = SymbolSource.None;
            if (pe.TryOpenAssociatedPortablePdb(path, ReadPortablePdb, out var pdbProvider, out var pdbPath))
            {
                symbols = pdbPath is null ? SymbolSource.Embedded : SymbolSource.SideBySide;
            }

            return new AssemblyImage(path, pe, metadata, pdbProvider, symbols);
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            pe?.Dispose();
            throw new AssemblyReadException(path, $"not a readable managed assembly ({e.Message})", e);
        }
        catch
        {
            pe?.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _pdbProvider?.Dispose();
        _pe.Dispose();
    }

    /// <summary>
    /// Reads a candidate PDB into memory; a Windows (non-portable) PDB is treated as absent
    /// instead of failing the whole assembly.
    /// </summary>
    private static Stream? ReadPortablePdb(string pdbPath)
    {
        if (!File.Exists(pdbPath))
        {
            return null;
        }

        var bytes = File.ReadAllBytes(pdbPath);
        return bytes.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(bytes) == PortablePdbSignature
            ? new MemoryStream(bytes, writable: false)
            : null;
    }
}
