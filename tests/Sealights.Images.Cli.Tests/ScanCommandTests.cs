using Sealights.Coverage.BuildMaps;
using Sealights.Images.Testing;

namespace Sealights.Images.Cli.Tests;

/// <summary><c>sl-images scan</c> as a real process on a real publish output.</summary>
public sealed class ScanCommandTests
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "sl-images.dll");

    private static Task<ProcessResult> ScanAsync(params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", [Cli, "scan", .. arguments], TimeSpan.FromMinutes(2));

    [Fact]
    public async Task The_build_map_of_the_sample_lists_its_source_methods_with_the_agents_ids()
    {
        var publish = Path.Combine(RepositoryPaths.Artifacts, "cli-tests", "sample");
        (await ProcessRunner.RunAsync(
            "dotnet", ["publish", RepositoryPaths.Combine("samples", "SampleFunction"), "-c", "Release", "-f", "net10.0", "-o", publish, "--nologo"],
            TimeSpan.FromMinutes(5))).EnsureSuccess("dotnet publish SampleFunction");
        var output = Path.Combine(publish, "..", "buildmap.json");

        var result = await ScanAsync(publish, "--output", output);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("sl-images scan: 1 assembly,", result.StdErr);
        using var stream = File.OpenRead(output);
        var map = BuildMapJson.Read(stream);
        var assembly = Assert.Single(map.Assemblies);
        Assert.Equal("SampleFunction", assembly.Name);
        var ids = assembly.Methods.Select(m => m.Id).ToHashSet();
        Assert.Contains("SampleFunction|SampleFunction.Function|Handle(System.IO.Stream)", ids);
        Assert.Contains("SampleFunction|SampleFunction.Function|Echo(System.String)", ids);
        Assert.Contains("SampleFunction|SampleFunction.DiscountRules|Apply(System.Decimal,System.Int32,System.String)", ids);
        Assert.All(assembly.Methods, m => Assert.True(m.StartLine > 0 && m.EndLine >= m.StartLine, m.Id));
    }

    [Fact]
    public async Task A_missing_folder_is_bad_input()
    {
        var result = await ScanAsync("/nonexistent/sl-scan");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("/nonexistent/sl-scan does not exist or is not a folder", result.StdErr);
    }

    [Fact]
    public async Task A_folder_without_application_assemblies_is_a_finding_with_advice()
    {
        var empty = Directory.CreateTempSubdirectory("sl-scan-empty-").FullName;
        File.WriteAllText(Path.Combine(empty, "readme.txt"), "no assemblies here");
        try
        {
            var result = await ScanAsync(empty);

            Assert.Equal(1, result.ExitCode);
            Assert.Contains("no application assembly with a portable PDB", result.StdErr);
            Assert.Contains("keep the .pdb files", result.StdErr);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }
}
