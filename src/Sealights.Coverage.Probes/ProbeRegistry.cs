using System.Runtime.CompilerServices;

namespace Sealights.Coverage.Probes;

/// <summary>
/// The instrumented modules of this process and their hit arrays. The static constructor of each
/// module's generated <c>&lt;SealightsProbes&gt;</c> type calls <see cref="Register"/> once; the
/// array it gets back is what that module's method probes set (see README.md, "Probe").
/// </summary>
public static class ProbeRegistry
{
    /// <summary>
    /// Registers an instrumented module. Never throws into the application: on any failure the
    /// module still gets an array (its probes work, its hits are simply never reported).
    /// </summary>
    /// <param name="anchor">The module's generated <c>&lt;SealightsProbes&gt;</c> type.</param>
    /// <param name="methodDefCount">Rows of the module's MethodDef table: index = RID − 1.</param>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int[] Register(RuntimeTypeHandle anchor, int methodDefCount)
    {
        var hits = new int[Math.Max(0, methodDefCount)];
        try
        {
            ProbedModules.Add(anchor, hits);
            // The flush's source exists once a module can have hits, made off this (init) thread.
            CoverageEventSource.CreateInBackground();
        }
        catch
        {
            // Coverage of this module is lost; the function must not notice anything.
        }

        return hits;
    }
}
