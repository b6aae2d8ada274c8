using System.Collections.Concurrent;
using Sealights.Coverage;

namespace Sealights.Lambda.Agent.MethodHits;

/// <summary>
/// Which loaded modules are the application and their source-method catalogs: a module counts
/// when its IL file is under the task root and <see cref="ApplicationAssemblyFinder"/> accepts it
/// (not framework, not a package, has a portable PDB). Catalogs are read once per file and
/// shared by every runtime process (the files do not change while the environment lives).
/// </summary>
internal sealed class ApplicationModules
{
    private readonly string _taskRoot;
    private readonly string _taskRootPrefix;
    private readonly Action<string> _log;
    private readonly ConcurrentDictionary<string, Lazy<SourceMethodCatalog?>> _catalogs = new(StringComparer.Ordinal);

    public ApplicationModules(string taskRoot, Action<string> log)
    {
        _taskRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(taskRoot));
        _taskRootPrefix = _taskRoot + Path.DirectorySeparatorChar;
        _log = log;
    }

    /// <summary>Cheap test on the event path: could this module be the application at all?</summary>
    public bool IsCandidate(string? ilPath) =>
        !string.IsNullOrEmpty(ilPath) && ilPath.StartsWith(_taskRootPrefix, StringComparison.Ordinal);

    /// <summary>The catalog of an application module, or null when the file is not part of the application.</summary>
    public SourceMethodCatalog? CatalogFor(string ilPath) =>
        _catalogs.GetOrAdd(ilPath, path => new Lazy<SourceMethodCatalog?>(() => Load(path))).Value;

    /// <summary>Reads the task root's application catalogs in the background, so the first flush need not.</summary>
    public Task WarmUpAsync() => Task.Run(() =>
    {
        try
        {
            foreach (var assembly in ApplicationAssemblyFinder.Find(_taskRoot).Assemblies)
            {
                CatalogFor(assembly.Path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log($"cannot list the application in {_taskRoot} ({e.Message}); its modules are read when the runtime loads them");
        }
    });

    private SourceMethodCatalog? Load(string path)
    {
        try
        {
            var scan = ApplicationAssemblyFinder.Inspect([path]);
            if (scan.Assemblies.Count == 0)
            {
                return null;
            }

            var catalog = SourceMethodCatalog.Read(path);
            return catalog.HasSymbols ? catalog : null;
        }
        catch (Exception e) when (e is AssemblyReadException or IOException or UnauthorizedAccessException)
        {
            _log($"no coverage for {path}: {e.Message}");
            return null;
        }
    }
}
