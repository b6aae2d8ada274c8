using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Sealights.Coverage.Instrumentation;

/// <summary>What must be known about a file before rewriting it, read with System.Reflection.Metadata.</summary>
/// <param name="Refusal">Why the file cannot be instrumented (ReadyToRun, mixed mode, not managed); null when it can.</param>
/// <param name="Skip">Why there is nothing to do (reference assembly, already instrumented); null otherwise.</param>
/// <param name="AlreadyInstrumented">The marker type is present.</param>
/// <param name="AssemblyName">The assembly's simple name, when it is one.</param>
/// <param name="PdbPath">The side-by-side portable PDB, when there is one.</param>
/// <param name="EmbeddedPdb">The portable PDB is embedded.</param>
internal sealed record InputCheck(string? Refusal, string? Skip, bool AlreadyInstrumented, string? AssemblyName, string? PdbPath, bool EmbeddedPdb)
{
    private const string ReferenceAssemblyAttribute = "ReferenceAssemblyAttribute";

    public static InputCheck Of(string path, byte[] image)
    {
        try
        {
            using var pe = new PEReader(new MemoryStream(image, writable: false));
            if (!pe.HasMetadata)
            {
                return Refused("not a managed assembly (no CLI metadata)");
            }

            var metadata = pe.GetMetadataReader();
            // First: instrumented IL compiled ReadyToRun afterwards (the MSBuild package's output)
            // already carries its probes, in the IL and in the native code.
            if (metadata.IsAssembly && ProbeLayout.FindMarker(metadata).HasValue)
            {
                return new InputCheck(null, "already instrumented", true, metadata.GetString(metadata.GetAssemblyDefinition().Name), null, false);
            }

            var corHeader = pe.PEHeaders.CorHeader!;
            // A ReadyToRun (or NGen) image carries native code compiled from the IL: a rewrite would
            // drop it, or leave code that runs without the probes. Instrument before crossgen instead.
            if (corHeader.ManagedNativeHeaderDirectory.Size != 0)
            {
                return Refused("a ReadyToRun image: instrument the IL before ReadyToRun compilation (the MSBuild package does; with sl-images instrument, publish without PublishReadyToRun)");
            }

            if ((corHeader.Flags & CorFlags.ILOnly) == 0)
            {
                return Refused("a mixed-mode (C++/CLI) assembly: its native code cannot be rewritten");
            }

            if (!metadata.IsAssembly)
            {
                return Refused("a module without an assembly manifest");
            }

            var name = metadata.GetString(metadata.GetAssemblyDefinition().Name);
            if (IsReferenceAssembly(metadata))
            {
                return new InputCheck(null, "a reference assembly (no code runs from it)", false, name, null, false);
            }

            // As scan: a framework or platform name is never the application, whatever it ships.
            if (FrameworkAssemblyNames.IsFramework(name))
            {
                return new InputCheck(null, "a framework or platform assembly name (System.*, Microsoft.*, Amazon.Lambda.*, AWSSDK.*: never the application)", false, name, null, false);
            }

            string? pdbPath = null;
            var embedded = false;
            if (pe.TryOpenAssociatedPortablePdb(path, OpenPdb, out var provider, out var foundPath))
            {
                provider!.Dispose();
                pdbPath = foundPath;
                embedded = foundPath is null;
            }

            return new InputCheck(null, null, false, name, pdbPath, embedded);
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException)
        {
            return Refused($"not a readable managed assembly ({e.Message})");
        }
    }

    private static InputCheck Refused(string reason) => new(reason, null, false, null, null, false);

    private static bool IsReferenceAssembly(MetadataReader metadata)
    {
        foreach (var handle in metadata.GetAssemblyDefinition().GetCustomAttributes())
        {
            var constructor = metadata.GetCustomAttribute(handle).Constructor;
            var name = constructor.Kind switch
            {
                HandleKind.MemberReference when metadata.GetMemberReference((MemberReferenceHandle)constructor).Parent is { Kind: HandleKind.TypeReference } parent
                    => metadata.GetTypeReference((TypeReferenceHandle)parent).Name,
                // The core library defines the attribute itself.
                HandleKind.MethodDefinition
                    => metadata.GetTypeDefinition(metadata.GetMethodDefinition((MethodDefinitionHandle)constructor).GetDeclaringType()).Name,
                _ => default,
            };
            if (!name.IsNil && metadata.StringComparer.Equals(name, ReferenceAssemblyAttribute))
            {
                return true;
            }
        }

        return false;
    }

    // A Windows PDB next to the assembly counts as none, as in Sealights.Coverage.
    private static Stream? OpenPdb(string pdbPath)
    {
        if (!File.Exists(pdbPath))
        {
            return null;
        }

        var bytes = File.ReadAllBytes(pdbPath);
        return bytes.Length >= 4 && BitConverter.ToUInt32(bytes, 0) == 0x424A5342 ? new MemoryStream(bytes, writable: false) : null;
    }
}
