namespace Sealights.Coverage.Tests;

public class ApplicationAssemblyFinderTests
{
    [Fact]
    public void Finds_managed_non_framework_assemblies_with_a_pdb()
    {
        using var temp = new TempDirectory();
        var app = temp.Copy(Fixture.AssemblyPath);
        temp.Copy(Fixture.PdbPath);
        var framework = temp.Copy(typeof(System.Text.Json.JsonSerializer).Assembly.Location);
        var garbage = temp.File("native.dll");
        File.WriteAllBytes(garbage, [0x7F, (byte)'E', (byte)'L', (byte)'F', 1, 2, 3]);
        File.WriteAllText(temp.File("appsettings.json"), "{}");

        var scan = ApplicationAssemblyFinder.Find(temp.Path);

        var found = Assert.Single(scan.Assemblies);
        Assert.Equal(new ApplicationAssembly(app, Fixture.AssemblyName, Fixture.Catalog.Mvid, SymbolSource.SideBySide), found);
        Assert.Equal(
            [(framework, ExclusionReason.FrameworkAssembly), (garbage, ExclusionReason.NotManagedAssembly)],
            scan.Excluded.Select(e => (e.Path, e.Reason)));
        Assert.Equal("System.Text.Json is a framework or platform assembly", scan.Excluded[0].Detail);
    }

    [Fact]
    public void Uses_deps_json_to_leave_out_packages_even_with_embedded_pdbs()
    {
        // The test output folder is a real app folder: project outputs plus NuGet packages,
        // xunit.core.dll among them with an embedded PDB.
        var scan = ApplicationAssemblyFinder.Find(AppContext.BaseDirectory);

        Assert.Equal(
            [Fixture.AssemblyName, "Sealights.Coverage.Tests", "Sealights.Coverage"],
            scan.Assemblies.Select(a => a.Name)); // ordinal by path: 'F' < 'T' < 'd'
        Assert.All(scan.Assemblies, a => Assert.Equal(SymbolSource.SideBySide, a.Symbols));
        var xunit = scan.Excluded.Single(e => Path.GetFileName(e.Path) == "xunit.core.dll");
        Assert.Equal(ExclusionReason.PackageAssembly, xunit.Reason);
        Assert.Contains("xunit.extensibility.core/", xunit.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("package", false)]
    [InlineData("project", true)]
    public void Deps_json_library_type_decides(string type, bool isApplication)
    {
        using var temp = new TempDirectory();
        temp.Copy(Fixture.AssemblyPath);
        temp.Copy(Fixture.PdbPath);
        File.WriteAllText(temp.File("App.deps.json"), $$"""
            {
              "targets": { ".NETCoreApp,Version=v8.0": { "Lib/1.0.0": { "runtime": { "lib/net8.0/{{Fixture.AssemblyName}}.dll": {} } } } },
              "libraries": { "Lib/1.0.0": { "type": "{{type}}" } }
            }
            """);

        var scan = ApplicationAssemblyFinder.Find(temp.Path);

        Assert.Equal(isApplication, scan.Assemblies.Count == 1);
    }

    [Fact]
    public void Broken_deps_json_is_ignored()
    {
        using var temp = new TempDirectory();
        temp.Copy(Fixture.AssemblyPath);
        temp.Copy(Fixture.PdbPath);
        File.WriteAllText(temp.File("App.deps.json"), "{ not json");

        Assert.Single(ApplicationAssemblyFinder.Find(temp.Path).Assemblies);
    }

    [Fact]
    public void Assembly_without_pdb_is_excluded_as_no_symbols()
    {
        using var temp = new TempDirectory();
        var path = temp.Copy(Fixture.AssemblyPath);

        var scan = ApplicationAssemblyFinder.Inspect([path]);

        Assert.Empty(scan.Assemblies);
        var excluded = Assert.Single(scan.Excluded);
        Assert.Equal(ExclusionReason.NoSymbols, excluded.Reason);
        Assert.Contains("no matching portable PDB", excluded.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_is_excluded_not_thrown()
    {
        var scan = ApplicationAssemblyFinder.Inspect(["/nonexistent/App.dll"]);

        Assert.Equal(ExclusionReason.NotManagedAssembly, Assert.Single(scan.Excluded).Reason);
    }

    [Theory]
    [InlineData("System.Text.Json", true)]
    [InlineData("system.private.corelib", true)]
    [InlineData("Microsoft.Extensions.Logging", true)]
    [InlineData("Amazon.Lambda.Core", true)]
    [InlineData("AWSSDK.S3", true)]
    [InlineData("netstandard", true)]
    [InlineData("mscorlib", true)]
    [InlineData("System", true)]
    [InlineData("SampleFunction", false)]
    [InlineData("Systematic.Orders", false)]
    [InlineData("MyCompany.Microsoft.Tools", false)]
    public void Framework_rule_is_by_name(string name, bool framework)
    {
        Assert.Equal(framework, FrameworkAssemblyNames.IsFramework(name));
    }
}
