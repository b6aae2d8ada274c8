using System.Diagnostics;
using System.Reflection;

namespace Sealights.Coverage.Tests;

/// <summary>
/// Ids must survive a rebuild of unchanged source: the fixture's sources are copied to another
/// folder and built again (other source paths, other output folder, PDB embedded instead of
/// side-by-side), and the two catalogs must name every method identically.
/// </summary>
public class RebuildStabilityTests
{
    private static readonly string RepoRoot = typeof(RebuildStabilityTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepoRoot").Value!;

    [Fact]
    public void Ids_are_identical_for_the_same_source_built_elsewhere()
    {
        using var temp = new TempDirectory();
        var project = CopyFixtureSources(Path.Combine(temp.Path, "elsewhere", "src"));
        var output = Path.Combine(temp.Path, "elsewhere", "out");

        Build(project, output);
        var rebuilt = SourceMethodCatalog.Read(Path.Combine(output, Fixture.AssemblyName + ".dll"));

        Assert.Equal(SymbolSource.Embedded, rebuilt.Symbols);
        Assert.NotEqual(Fixture.Catalog.Methods[0].SourceFile, rebuilt.Methods[0].SourceFile);
        Assert.Equal(
            Fixture.Catalog.Methods.Select(m => m.Identity.Id),
            rebuilt.Methods.Select(m => m.Identity.Id));
        Assert.Equal(
            Fixture.Catalog.Methods.Select(m => (Path.GetFileName(m.SourceFile), m.StartLine, m.EndLine)),
            rebuilt.Methods.Select(m => (Path.GetFileName(m.SourceFile), m.StartLine, m.EndLine)));
    }

    private static string CopyFixtureSources(string target)
    {
        var source = Path.Combine(RepoRoot, "tests", "Sealights.Coverage.Tests.Fixture");
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source).Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".csproj", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        // Same compiler settings as the repository build; no central package management,
        // since the copy has no Directory.Packages.props beside it and needs no packages.
        File.WriteAllText(Path.Combine(target, "Directory.Build.props"), $"""
            <Project>
              <Import Project="{Path.Combine(RepoRoot, "Directory.Build.props")}" />
              <PropertyGroup>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
            </Project>
            """);
        return Path.Combine(target, Fixture.AssemblyName + ".csproj");
    }

    private static void Build(string project, string output)
    {
        var configuration = typeof(RebuildStabilityTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
                 {
                     "build", project, "-c", configuration, "-o", output, "-p:DebugType=embedded",
                     "-nodeReuse:false", "-p:UseSharedCompilation=false", "-v:q", "-nologo",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        // The outer `dotnet test` leaves MSBuild variables in the environment that would steer the nested build.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "the fixture rebuild did not finish in 3 minutes");
        Assert.True(process.ExitCode == 0, $"the fixture rebuild failed:\n{stdout.Result}\n{stderr.Result}");
    }
}
