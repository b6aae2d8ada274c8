using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Sealights.Coverage;

namespace Sealights.Lambda.Agent.MethodHits;

/// <summary>
/// Which application assemblies carry compiled-in probes (the <c>&lt;SealightsProbes&gt;</c> type,
/// src/Sealights.Coverage.Probes/README.md) and which keep the first-execution path. Looked at only
/// when the task root has <see cref="ManifestFileName"/>; each assembly's file is the judge (name,
/// MVID, marker type), so a manifest copied beside a plain publish changes nothing.
/// </summary>
internal sealed class ProbedAssemblies
{
    /// <summary>What the instrumenter writes beside the instrumented assemblies.</summary>
    public const string ManifestFileName = "sealights-instrumented.json";

    private const string MarkerType = "<SealightsProbes>";

    /// <summary>The probes runtime library itself ships beside the application; it is not the application.</summary>
    public const string RuntimeLibraryFileName = "Sealights.Coverage.Probes.dll";

    private readonly Dictionary<(string Name, Guid Mvid), string> _byIdentity;
    private readonly HashSet<string> _paths;

    private ProbedAssemblies(Dictionary<(string Name, Guid Mvid), string> byIdentity, IReadOnlyList<string> plain)
    {
        _byIdentity = byIdentity;
        _paths = [.. byIdentity.Values];
        Plain = plain;
    }

    /// <summary>No probes anywhere: every assembly is on the first-execution path.</summary>
    public static ProbedAssemblies None { get; } = new([], []);

    /// <summary>Application assemblies without probes (first-execution path), by file name.</summary>
    public IReadOnlyList<string> Plain { get; }

    /// <summary>Whether any application assembly has probes.</summary>
    public bool Any => _byIdentity.Count > 0;

    /// <summary>Every application assembly has probes: the runtime provider is not needed at all.</summary>
    public bool All => Any && Plain.Count == 0;

    /// <summary>Whether the module at <paramref name="ilPath"/> reports through probes (its runtime events are ignored).</summary>
    public bool IsProbed(string ilPath) => _paths.Contains(ilPath);

    /// <summary>The file of an instrumented assembly with this name and MVID, if the task root has it.</summary>
    public string? PathOf(string assemblyName, Guid mvid) => _byIdentity.GetValueOrDefault((assemblyName, mvid));

    /// <summary>One line: which mode each application assembly is in.</summary>
    public string Describe() =>
        !Any
            ? "every application assembly on the first-execution path (no probes)"
            : "application assemblies "
              + string.Join(", ", _byIdentity.Values.Select(p => $"{Path.GetFileName(p)}: probes").Concat(Plain.Select(p => $"{p}: first execution (not instrumented)")).Order(StringComparer.Ordinal));

    /// <summary>Scans the application assemblies of <paramref name="taskRoot"/> (headers and type names only; ~1 ms each).</summary>
    public static ProbedAssemblies Scan(string taskRoot)
    {
        if (!File.Exists(Path.Combine(taskRoot, ManifestFileName)))
        {
            return None;
        }

        var probed = new Dictionary<(string Name, Guid Mvid), string>();
        var plain = new List<string>();
        foreach (var assembly in ApplicationAssemblyFinder.Find(taskRoot).Assemblies)
        {
            var path = Path.GetFullPath(assembly.Path);
            if (Path.GetFileName(path) == RuntimeLibraryFileName)
            {
                continue;
            }

            if (Read(path) is { } identity)
            {
                probed[identity] = path;
            }
            else
            {
                plain.Add(Path.GetFileName(path));
            }
        }

        return new ProbedAssemblies(probed, plain);
    }

    /// <summary>The assembly's name and MVID when it carries the marker type; null otherwise.</summary>
    internal static (string Name, Guid Mvid)? Read(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var image = new PEReader(stream);
            if (!image.HasMetadata)
            {
                return null;
            }

            var metadata = image.GetMetadataReader();
            if (!metadata.IsAssembly)
            {
                return null;
            }

            foreach (var handle in metadata.TypeDefinitions)
            {
                var type = metadata.GetTypeDefinition(handle);
                if (type.Namespace.IsNil && metadata.StringComparer.Equals(type.Name, MarkerType))
                {
                    return (metadata.GetString(metadata.GetAssemblyDefinition().Name), metadata.GetGuid(metadata.GetModuleDefinition().Mvid));
                }
            }

            return null;
        }
        catch (Exception e) when (e is BadImageFormatException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
