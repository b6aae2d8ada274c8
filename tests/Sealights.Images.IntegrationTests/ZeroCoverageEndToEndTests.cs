using Sealights.Images.IntegrationTests.Infrastructure;
using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// The Dockerfile recipe's commonest mistake, end to end: a Release publish without PDBs
/// (DebugType=none) on the coverage-ready image. The function works; the agent's last lines say
/// why it collected nothing and what to change.
/// </summary>
[Collection(CoverageCollection.Name)]
public sealed class ZeroCoverageEndToEndTests(CoverageFixture images, ITestOutputHelper output)
{
    [Fact]
    public async Task A_publish_without_PDBs_is_named_at_shutdown_with_the_publish_setting_that_fixes_it()
    {
        // A copy of the sample (its own bin and obj: the other tests' builds of the sample keep their PDBs),
        // under artifacts/ so that the repository's build settings and package versions still apply.
        var project = Path.Combine(RepositoryPaths.Artifacts, "it-no-pdb", TestRun.Id, "SampleFunction");
        Directory.CreateDirectory(project);
        foreach (var file in Directory.EnumerateFiles(RepositoryPaths.Combine("samples", "SampleFunction")).Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".csproj", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(project, Path.GetFileName(file)), overwrite: true);
        }
        var publish = Path.Combine(project, "..", "publish");
        (await BuildLock.RunAsync(() => ProcessRunner.RunAsync(
            "dotnet",
            ["publish", project, "-c", "Release", "-f", "net10.0", "-o", publish, "--nologo", "-p:DebugType=none"],
            TimeSpan.FromMinutes(5)))).EnsureSuccess("dotnet publish SampleFunction -p:DebugType=none");
        Assert.Empty(Directory.GetFiles(publish, "*.pdb"));
        var image = await ImageBuilder.BuildAsync(images.CoverageImage, [], cmd: StandInImages.SampleHandler, copyDirectoryTo: "/var/task/", copyDirectoryFrom: publish);

        await using var container = await LambdaContainer.StartAsync(image, new Dictionary<string, string> { ["SL_TOKEN"] = SealightsTokens.Create(), ["SL_DEBUG_HITS_FILE"] = "/tmp/hits.jsonl" });
        var answer = await container.InvokeAsync(SampleCalls.Echo);
        Assert.Null(answer.FunctionError);
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Contains("collected 0 application methods", logs, StringComparison.Ordinal);
        Assert.Contains(
            "no coverage from this environment: the assemblies under /var/task have no PDB (SampleFunction.dll): publish with portable PDBs (dotnet publish -p:DebugType=portable; "
            + "Release builds and DebugType=none leave them out) and copy the .pdb files next to the .dll files in /var/task",
            logs,
            StringComparison.Ordinal);
    }
}
