namespace Sealights.Coverage.Probes;

/// <summary>
/// One instrumented module: its anchor type and the array its probes set. Who it is (assembly
/// name, MVID) is read at the first flush, off the function's init path: the first
/// <c>Assembly.GetName()</c> of a process can cost 15 ms (culture data).
/// </summary>
internal sealed class ProbedModule(RuntimeTypeHandle anchor, int[] hits)
{
    private (string Name, Guid Mvid)? _identity;

    public int[] Hits { get; } = hits;

    public string AssemblyName => Identity().Name;

    public Guid Mvid => Identity().Mvid;

    private (string Name, Guid Mvid) Identity()
    {
        if (_identity is { } known)
        {
            return known;
        }

        var module = Type.GetTypeFromHandle(anchor)!.Module;
        var identity = (module.Assembly.GetName().Name ?? module.ScopeName, module.ModuleVersionId);
        _identity = identity;
        return identity;
    }
}

/// <summary>The registered modules, appended under a lock, read as a snapshot by a flush.</summary>
internal static class ProbedModules
{
    private static readonly object Lock = new();
    private static ProbedModule[] _modules = [];

    public static void Add(RuntimeTypeHandle anchor, int[] hits)
    {
        var entry = new ProbedModule(anchor, hits);
        lock (Lock)
        {
            var modules = new ProbedModule[_modules.Length + 1];
            _modules.CopyTo(modules, 0);
            modules[^1] = entry;
            Volatile.Write(ref _modules, modules);
        }
    }

    public static ProbedModule[] Snapshot() => Volatile.Read(ref _modules);
}
