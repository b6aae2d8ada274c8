using Sealights.Coverage;

namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>
/// Why an environment reported no application method, with the fix, for the one line the agent
/// prints at SHUTDOWN instead of a bare "collected 0" (a Release publish without PDBs, an image
/// whose code is not in the task root and a runtime that never connected all look alike there).
/// Read at SHUTDOWN only: the task root's assembly headers, never on an invocation's path.
/// </summary>
internal static class ZeroCoverageReason
{
    public static string Explain(string taskRoot, int invocations, int runtimesConnected)
    {
        if (invocations == 0)
        {
            return "no invocation ran in this environment";
        }
        if (runtimesConnected == 0)
        {
            return "the function's runtime never connected to the agent (the line at the first invocation says why)";
        }

        ApplicationAssemblyScan scan;
        try
        {
            scan = ApplicationAssemblyFinder.Find(taskRoot);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{taskRoot} cannot be read ({e.GetType().Name}: {e.Message}); the function's code must be published there";
        }
        if (scan.Assemblies.Count > 0)
        {
            return $"none of the methods of {Names(scan.Assemblies.Select(a => a.Path))} ran in a connected runtime process; check that the handler is in one of them";
        }
        var withoutSymbols = scan.Excluded.Where(e => e.Reason == ExclusionReason.NoSymbols).Select(e => e.Path).ToList();
        if (withoutSymbols.Count > 0)
        {
            return $"the assemblies under {taskRoot} have no PDB ({Names(withoutSymbols)}): publish with portable PDBs (dotnet publish -p:DebugType=portable; Release builds and DebugType=none leave them out) and copy the .pdb files next to the .dll files in {taskRoot}";
        }
        return $"no application assembly found in {taskRoot} ({(scan.Excluded.Count == 0 ? "no .dll there" : "only framework and package assemblies")}): copy the function's dotnet publish output, with its .pdb files, into {taskRoot}";
    }

    private static string Names(IEnumerable<string> paths)
    {
        var names = paths.Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        return names.Count <= 3 ? string.Join(", ", names) : $"{string.Join(", ", names.Take(3))} and {names.Count - 3} more";
    }
}
