using System.Collections.Concurrent;
using Sealights.Coverage;
using Sealights.Lambda.Agent.Diagnostics;

namespace Sealights.Lambda.Agent.MethodHits;

/// <summary>
/// Which loaded modules are the application and their source-method catalogs: a module counts
/// when its IL file is under the task root and <see cref="ApplicationAssemblyFinder"/> accepts it
/// (not framework, not a package, has a portable PDB). Catalogs are read once per file, when a
/// drain first needs them (off the function's init path), and shared by every runtime process
/// (the files do not change while the environment lives).
/// </summary>
internal sealed class ApplicationModules
{
    private readonly string _taskRoot;
    private readonly string _taskRootPrefix;
    private readonly Action<string> _log;
    private readonly ConcurrentDictionary<string, Lazy<SourceMethodCatalog?>> _catalogs = new(StringComparer.Ordinal);
    private readonly Lazy<Task<bool>> _readyToRun;

    public ApplicationModules(string taskRoot, Action<string> log)
    {
        _taskRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(taskRoot));
        _taskRootPrefix = _taskRoot + Path.DirectorySeparatorChar;
        _log = log;
        _readyToRun = new Lazy<Task<bool>>(() => Task.Run(HasReadyToRunCode));
    }

    /// <summary>
    /// Whether the application may run ReadyToRun code, from a scan of the task root started on
    /// first use (headers only, no PDBs). True when unsure: asking for ReadyToRun events costs
    /// time, missing them costs hits.
    /// </summary>
    public Task<bool> HasReadyToRunCodeAsync() => _readyToRun.Value;

    /// <summary>
    /// Whether process <paramref name="processId"/> may already have run application code: it
    /// has mapped a file from the task root (assemblies are mapped before any of their code
    /// runs), or that cannot be told.
    /// </summary>
    public bool MayHaveRunIn(int processId) => ProcessMaps.HasMappedFileUnder(processId, _taskRootPrefix) != false;

    /// <summary>
    /// The application assemblies that report through probes (set before the runtime's first
    /// session): their runtime events are ignored, so nothing is counted twice.
    /// </summary>
    public ProbedAssemblies Probed { get; set; } = ProbedAssemblies.None;

    /// <summary>Cheap test on the event path: could this module be the application (on the first-execution path) at all?</summary>
    public bool IsCandidate(string? ilPath) =>
        !string.IsNullOrEmpty(ilPath) && ilPath.StartsWith(_taskRootPrefix, StringComparison.Ordinal) && !Probed.IsProbed(ilPath)
        && !ilPath.EndsWith(ProbedAssemblies.RuntimeLibraryFileName, StringComparison.Ordinal);

    /// <summary>The task root, as a full path.</summary>
    public string TaskRoot => _taskRoot;

    /// <summary>The catalog of an application module, or null when the file is not part of the application.</summary>
    public SourceMethodCatalog? CatalogFor(string ilPath) =>
        _catalogs.GetOrAdd(ilPath, path => new Lazy<SourceMethodCatalog?>(() => Load(path))).Value;

    // The application's own assemblies at the top (the finder's rules), and any assembly in a
    // subfolder: those are package assets or satellites as a rule, but a module loaded from
    // there is still judged as application when it has a PDB, so they are not ruled out.
    private bool HasReadyToRunCode()
    {
        try
        {
            return ApplicationAssemblyFinder.Find(_taskRoot).Assemblies.Any(a => ReadyToRunImages.IsReadyToRun(a.Path))
                || Directory.EnumerateDirectories(_taskRoot)
                    .SelectMany(d => Directory.EnumerateFiles(d, "*.dll", SearchOption.AllDirectories))
                    .Any(ReadyToRunImages.IsReadyToRun);
        }
        catch (Exception e)
        {
            // Unreadable folder, malformed deps.json, …: never a reason to miss hits.
            _log($"cannot tell whether the application in {_taskRoot} has ReadyToRun code ({e.GetType().Name}: {e.Message}); asking the runtime for its events");
            return true;
        }
    }

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
