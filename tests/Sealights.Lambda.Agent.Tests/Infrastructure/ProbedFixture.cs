using System.Reflection;
using System.Text;
using Sealights.Coverage;

namespace Sealights.Lambda.Agent.Tests.Infrastructure;

/// <summary>
/// The hand-probed fixture as the agent must find it: a copy of its build output whose anchor
/// class carries the contract's marker name (<c>_SealightsProbes_</c> renamed in place to
/// <c>&lt;SealightsProbes&gt;</c>, same length, in the #Strings heap) and a
/// <c>sealights-instrumented.json</c> beside it. Prepared once per test run.
/// </summary>
internal static class ProbedFixture
{
    public const string AssemblyName = "Sealights.Lambda.Agent.Tests.ProbedFixture";

    private static readonly Lazy<string> Prepared = new(() => Prepare(markAnchor: true));
    private static readonly Lazy<string> PreparedPlain = new(() => Prepare(markAnchor: false));

    /// <summary>The prepared fixture's assembly.</summary>
    public static string Assembly => Prepared.Value;

    /// <summary>
    /// The same, but its anchor keeps its C# name: no marker type, so a plain assembly beside a
    /// <c>sealights-instrumented.json</c> (a manifest copied over a plain publish).
    /// </summary>
    public static string PlainAssembly => PreparedPlain.Value;

    /// <summary>The source method id of <paramref name="typeAndMember"/> (e.g. <c>PathA|Run()</c>), checked against the fixture's catalog.</summary>
    public static string Id(string typeAndMember)
    {
        var id = $"{AssemblyName}|ProbedFixture.{typeAndMember}";
        var known = SourceMethodCatalog.Read(Assembly).Methods.Select(m => m.Identity.Id).ToHashSet(StringComparer.Ordinal);
        return known.Contains(id) ? id : throw new InvalidOperationException($"{id} is not a source method of the fixture; it has: {string.Join(", ", known.Order())}");
    }

    private static string Prepare(bool markAnchor)
    {
        var built = typeof(ProbedFixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ProbedFixtureAssembly").Value!;
        var directory = Path.Combine(Path.GetTempPath(), "sl-agent-tests", "probed-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        foreach (var file in Directory.EnumerateFiles(Path.GetDirectoryName(built)!))
        {
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        }

        var assembly = Path.Combine(directory, Path.GetFileName(built));
        var bytes = File.ReadAllBytes(assembly);
        var from = Encoding.UTF8.GetBytes("\0_SealightsProbes_\0");
        var to = Encoding.UTF8.GetBytes("\0<SealightsProbes>\0");
        var at = bytes.AsSpan().IndexOf(from);
        if (at < 0 || bytes.AsSpan(at + 1).IndexOf(from) >= 0)
        {
            throw new InvalidOperationException("the fixture's anchor name is not in its #Strings heap exactly once");
        }

        if (markAnchor)
        {
            to.CopyTo(bytes, at);
            File.WriteAllBytes(assembly, bytes);
        }

        File.WriteAllText(Path.Combine(directory, "sealights-instrumented.json"), $$"""{"version":1,"assemblies":[{"name":"{{AssemblyName}}","file":"{{Path.GetFileName(built)}}"}]}""");
        return assembly;
    }
}
