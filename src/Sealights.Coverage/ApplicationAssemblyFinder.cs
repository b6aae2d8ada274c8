using Sealights.Coverage.Metadata;

namespace Sealights.Coverage;

/// <summary>
/// Decides which assemblies in a function's folder (e.g. <c>/var/task</c>) are "the
/// application": managed assemblies, not framework/platform by name
/// (<see cref="FrameworkAssemblyNames"/>), not a NuGet package's asset according to the
/// folder's <c>*.deps.json</c>, that have a matching portable PDB next to them or embedded.
/// A PDB is required because without one there are no source lines to map.
/// </summary>
public static class ApplicationAssemblyFinder
{
    /// <summary>
    /// Looks at the <c>*.dll</c> and <c>*.exe</c> files directly in <paramref name="directory"/>;
    /// subfolders hold satellite resources and RID-specific package assets, not app code.
    /// </summary>
    /// <param name="directory">The application folder.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static ApplicationAssemblyScan Find(string directory)
    {
        var files = Directory.EnumerateFiles(directory)
            .Where(f => f.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".exe", StringComparison.OrdinalIgnoreCase));
        return Inspect(files);
    }

    /// <summary>Classifies the given files (the agent passes the one module the runtime just loaded).</summary>
    /// <param name="files">Assembly file paths.</param>
    public static ApplicationAssemblyScan Inspect(IEnumerable<string> files)
    {
        var assemblies = new List<ApplicationAssembly>();
        var excluded = new List<ExcludedFile>();
        var manifests = new Dictionary<string, DependencyManifest>(StringComparer.Ordinal);
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".";
            if (!manifests.TryGetValue(directory, out var manifest))
            {
                manifest = DependencyManifest.Load(directory);
                manifests.Add(directory, manifest);
            }

            var verdict = Classify(file, manifest);
            if (verdict.Assembly is not null)
            {
                assemblies.Add(verdict.Assembly);
            }
            else
            {
                excluded.Add(verdict.Excluded!);
            }
        }

        return new ApplicationAssemblyScan(assemblies, excluded);
    }

    private static (ApplicationAssembly? Assembly, ExcludedFile? Excluded) Classify(string file, DependencyManifest manifest)
    {
        // Decided before opening the file: a package's assembly is never the application.
        if (manifest.TryGetPackage(file, out var library))
        {
            return (null, new ExcludedFile(file, ExclusionReason.PackageAssembly, $"a runtime asset of {library} (deps.json), not a project of the application"));
        }

        try
        {
            using var image = AssemblyImage.Open(file);
            if (!image.Metadata.IsAssembly)
            {
                return (null, new ExcludedFile(file, ExclusionReason.NotManagedAssembly, "a module without an assembly manifest"));
            }

            var name = AssemblyNames.Of(image.Metadata);
            if (FrameworkAssemblyNames.IsFramework(name))
            {
                return (null, new ExcludedFile(file, ExclusionReason.FrameworkAssembly, $"{name} is a framework or platform assembly"));
            }

            if (image.Symbols == SymbolSource.None)
            {
                return (null, new ExcludedFile(file, ExclusionReason.NoSymbols, $"{name} has no matching portable PDB (next to it or embedded)"));
            }

            var mvid = image.Metadata.GetGuid(image.Metadata.GetModuleDefinition().Mvid);
            return (new ApplicationAssembly(file, name, mvid, image.Symbols), null);
        }
        catch (AssemblyReadException e)
        {
            return (null, new ExcludedFile(file, ExclusionReason.NotManagedAssembly, e.Message));
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException)
        {
            // Metadata is read lazily: a malformed table can surface after the file opened fine.
            return (null, new ExcludedFile(file, ExclusionReason.NotManagedAssembly, $"malformed metadata ({e.Message})"));
        }
    }
}
