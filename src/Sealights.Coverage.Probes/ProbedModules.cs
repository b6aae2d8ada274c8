namespace Sealights.Coverage.Probes;

/// <summary>One instrumented module: who it is and the array its probes set.</summary>
internal sealed record ProbedModule(string AssemblyName, Guid Mvid, int[] Hits);

/// <summary>The registered modules, appended under a lock, read as a snapshot by a flush.</summary>
internal static class ProbedModules
{
    private static readonly object Lock = new();
    private static ProbedModule[] _modules = [];

    public static void Add(RuntimeTypeHandle anchor, int[] hits)
    {
        var module = Type.GetTypeFromHandle(anchor)!.Module;
        var entry = new ProbedModule(module.Assembly.GetName().Name ?? module.ScopeName, module.ModuleVersionId, hits);
        lock (Lock)
        {
            _modules = [.. _modules, entry];
        }
    }

    public static ProbedModule[] Snapshot() => Volatile.Read(ref _modules);
}
