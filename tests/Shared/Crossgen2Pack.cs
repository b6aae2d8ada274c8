namespace Sealights.Tests.Shared;

/// <summary>
/// The crossgen2 compiler of the NuGet cache (restored by any ReadyToRun publish of this SDK's
/// runtime), to compile an already instrumented IL assembly ReadyToRun the way the MSBuild
/// package's order does: instrument first, then crossgen. Linked into the test projects that need it.
/// </summary>
internal static class Crossgen2Pack
{
    public static readonly string Arch = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();

    /// <summary>The crossgen2 executable matching the running runtime's version (else its major's newest).</summary>
    public static string Executable()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var versions = Path.Combine(packages, $"microsoft.netcore.app.crossgen2.linux-{Arch}");
        var version = Directory.GetDirectories(versions).Select(Path.GetFileName).FirstOrDefault(v => v == Environment.Version.ToString())
            ?? Directory.GetDirectories(versions).Select(Path.GetFileName).Where(v => v!.StartsWith($"{Environment.Version.Major}.", StringComparison.Ordinal)).Max()!;
        return Path.Combine(versions, version!, "tools", "crossgen2");
    }

    /// <summary>
    /// crossgen2's arguments for <paramref name="input"/> → <paramref name="output"/>, optimized
    /// with its default (cross-method) inlining, against the running shared framework and <paramref name="references"/>.
    /// </summary>
    public static string[] Arguments(string input, string output, params string[] references)
    {
        var framework = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        return [input, "-o", output, "-r", framework + "/*.dll", .. references.SelectMany(r => new[] { "-r", r }), "--targetos:linux", $"--targetarch:{Arch}", "-O"];
    }
}
