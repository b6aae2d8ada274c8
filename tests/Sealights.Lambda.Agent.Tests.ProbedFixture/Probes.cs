using System.Reflection;
using Sealights.Coverage.Probes;

// The generated pattern, by hand. The instrumenter writes the MethodDef row count and each
// method's index (RID - 1) as constants; C# cannot know them at compile time, so Ix reads them
// from the method's metadata token once, and the probes read a static readonly int instead of a
// constant. Everything else is the contract's: one int[] per module from Register, and
// "if (Hits[i] == 0) Hits[i] = 1;" at each probed method's entry.

/// <summary>The module's anchor (renamed to &lt;SealightsProbes&gt; by the tests).</summary>
internal static class _SealightsProbes_
{
    internal static readonly int[] Hits = ProbeRegistry.Register(typeof(_SealightsProbes_).TypeHandle, ProbedFixture.Ix.MethodDefCount);
}

namespace ProbedFixture
{
    /// <summary>Each probed method's index: its MethodDef RID minus one.</summary>
    internal static class Ix
    {
        public static readonly int MethodDefCount = typeof(Ix).Module.GetTypes()
            .SelectMany(t => t.GetMembers(BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance))
            .OfType<MethodBase>()
            .Max(m => m.MetadataToken & 0x00FFFFFF);

        public static readonly int SharedGreet = Of(typeof(Shared), nameof(Shared.Greet));
        public static readonly int SharedCount = Of(typeof(Shared), nameof(Shared.Count));
        public static readonly int PathARun = Of(typeof(PathA), nameof(PathA.Run));
        public static readonly int PathAHelper = Of(typeof(PathA), nameof(PathA.Helper));
        public static readonly int PathBRun = Of(typeof(PathB), nameof(PathB.Run));
        public static readonly int PathBSquare = Of(typeof(PathB), nameof(PathB.Square));
        public static readonly int PathBCtor = typeof(PathB).GetConstructor(BindingFlags.Public | BindingFlags.Instance, [typeof(int)])!.MetadataToken - 0x06000001;
        public static readonly int PathCRun = Of(typeof(PathC), nameof(PathC.Run));
        public static readonly int PathCNeverCalled = Of(typeof(PathC), nameof(PathC.NeverCalled));

        private static int Of(Type type, string name) =>
            type.GetMethod(name, BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance)!.MetadataToken - 0x06000001;
    }

    /// <summary>Called by every scenario.</summary>
    public static class Shared
    {
        public static string Greet(string who)
        {
            if (_SealightsProbes_.Hits[Ix.SharedGreet] == 0) _SealightsProbes_.Hits[Ix.SharedGreet] = 1;
            return "hello " + who;
        }

        public static int Count(string text)
        {
            if (_SealightsProbes_.Hits[Ix.SharedCount] == 0) _SealightsProbes_.Hits[Ix.SharedCount] = 1;
            return text.Length;
        }
    }

    /// <summary>Scenario "a".</summary>
    public static class PathA
    {
        public static int Run()
        {
            if (_SealightsProbes_.Hits[Ix.PathARun] == 0) _SealightsProbes_.Hits[Ix.PathARun] = 1;
            var total = 0;
            for (var i = 0; i < 1000; i++)
            {
                total += Helper(i);
            }

            return total + Shared.Count(Shared.Greet("a"));
        }

        public static int Helper(int i)
        {
            if (_SealightsProbes_.Hits[Ix.PathAHelper] == 0) _SealightsProbes_.Hits[Ix.PathAHelper] = 1;
            return i & 3;
        }
    }

    /// <summary>Scenario "b": a constructor and an instance method.</summary>
    public sealed class PathB
    {
        private readonly int _value;

        public PathB(int value)
        {
            if (_SealightsProbes_.Hits[Ix.PathBCtor] == 0) _SealightsProbes_.Hits[Ix.PathBCtor] = 1;
            _value = value;
        }

        public static int Run()
        {
            if (_SealightsProbes_.Hits[Ix.PathBRun] == 0) _SealightsProbes_.Hits[Ix.PathBRun] = 1;
            return new PathB(7).Square() + Shared.Greet("b").Length;
        }

        public int Square()
        {
            if (_SealightsProbes_.Hits[Ix.PathBSquare] == 0) _SealightsProbes_.Hits[Ix.PathBSquare] = 1;
            return _value * _value;
        }
    }

    /// <summary>Scenario "c": only its own method and one shared one.</summary>
    public static class PathC
    {
        public static int Run()
        {
            if (_SealightsProbes_.Hits[Ix.PathCRun] == 0) _SealightsProbes_.Hits[Ix.PathCRun] = 1;
            return Shared.Count("c");
        }

        public static int NeverCalled()
        {
            if (_SealightsProbes_.Hits[Ix.PathCNeverCalled] == 0) _SealightsProbes_.Hits[Ix.PathCNeverCalled] = 1;
            return 0;
        }
    }

    /// <summary>A second registration of this module with many methods, every one hit: the chunking test.</summary>
    internal static class BulkProbes
    {
        private static int[]? _hits;

        /// <summary>Registers once (with <paramref name="methods"/> entries), then sets every entry, as if each method ran.</summary>
        public static void HitAll(int methods)
        {
            var hits = _hits ??= ProbeRegistry.Register(typeof(BulkProbes).TypeHandle, methods);
            for (var i = 0; i < hits.Length; i++)
            {
                hits[i] = 1;
            }
        }
    }
}
