using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Sealights.Coverage.Instrumentation.Tests;

/// <summary>(c) The publish-folder operation: what it adds, what it refuses, and that a second run changes nothing.</summary>
public sealed class PublishFolderTests(ITestOutputHelper output)
{
    private static readonly ProbesAssembly Probes = ProbesAssembly.Default();

    [Fact]
    public void The_folder_gets_the_probes_library_its_deps_json_entry_and_the_instrumented_list()
    {
        using var folder = Inputs.CornersFolder();

        var result = new PublishFolderInstrumenter(Probes).Instrument(folder.Path);

        var assembly = Assert.Single(result.Assemblies);
        Assert.Equal(InstrumentationOutcome.Instrumented, assembly.Outcome);
        Assert.False(result.Refused);
        Assert.Equal(File.ReadAllBytes(Probes.Path), File.ReadAllBytes(folder.File(ProbesAssembly.FileName)));
        Assert.False(File.Exists(folder.File("Sealights.Coverage.Probes.pdb")), "no PDB: scan must not map the library");

        var deps = JsonNode.Parse(File.ReadAllText(folder.File(Inputs.Corners + ".deps.json")))!;
        var target = deps["targets"]![deps["runtimeTarget"]!["name"]!.GetValue<string>()]!.AsObject();
        var entry = target.Single(t => t.Key.StartsWith("Sealights.Coverage.Probes/", StringComparison.Ordinal));
        Assert.Equal("1.0.0.0", entry.Value!["runtime"]![ProbesAssembly.FileName]!["assemblyVersion"]!.GetValue<string>());
        Assert.Equal("project", deps["libraries"]![entry.Key]!["type"]!.GetValue<string>());

        using var manifest = JsonDocument.Parse(File.ReadAllText(folder.File(InstrumentedManifest.FileName)));
        Assert.Equal(1, manifest.RootElement.GetProperty("version").GetInt32());
        var listed = Assert.Single(manifest.RootElement.GetProperty("assemblies").EnumerateArray().ToList());
        Assert.Equal(Inputs.Corners, listed.GetProperty("name").GetString());
        Assert.Equal(Inputs.Corners + ".dll", listed.GetProperty("file").GetString());
        Assert.Equal(SourceMethodCatalog.Read(folder.File(Inputs.Corners + ".dll")).Mvid, listed.GetProperty("mvid").GetGuid());
        Assert.Equal(ProbeIl.MethodDefRows(folder.File(Inputs.Corners + ".dll")), listed.GetProperty("methods").GetInt32());
        Assert.Equal(assembly.Probes, listed.GetProperty("probes").GetInt32());

        // The host resolves the library through the edited deps.json (the process would fail to load it otherwise).
        var run = Inputs.Run("dotnet", [folder.File(Inputs.Corners + ".dll")]);
        Assert.True(run.ExitCode == 0, run.Output);

        // The application set is unchanged: the library is no application assembly.
        var scan = ApplicationAssemblyFinder.Find(folder.Path);
        Assert.Equal([Inputs.Corners], scan.Assemblies.Select(a => a.Name));
    }

    [Fact]
    public void Instrumenting_a_folder_twice_changes_nothing_the_second_time()
    {
        using var folder = Inputs.CornersFolder();
        var instrumenter = new PublishFolderInstrumenter(Probes);
        var first = instrumenter.Instrument(folder.Path);
        var afterFirst = Snapshot(folder.Path);

        var second = instrumenter.Instrument(folder.Path);

        Assert.Equal(InstrumentationOutcome.Instrumented, Assert.Single(first.Assemblies).Outcome);
        var again = Assert.Single(second.Assemblies);
        Assert.Equal(InstrumentationOutcome.AlreadyInstrumented, again.Outcome);
        Assert.Equal(first.Assemblies[0].Probes, again.Probes);
        Assert.Equal(afterFirst, Snapshot(folder.Path));
        output.WriteLine(again.Describe());
    }

    [Fact]
    public void A_folder_whose_runtimeconfig_turns_EventSources_off_is_refused_untouched()
    {
        using var folder = Inputs.CornersFolder();
        var config = folder.File(Inputs.Corners + ".runtimeconfig.json");
        var json = JsonNode.Parse(File.ReadAllText(config))!;
        var options = json["runtimeOptions"]!.AsObject();
        options["configProperties"] ??= new JsonObject();
        options["configProperties"]!["System.Diagnostics.Tracing.EventSource.IsSupported"] = false;
        File.WriteAllText(config, json.ToJsonString());
        var before = Snapshot(folder.Path);

        var error = Assert.Throws<InstrumentationException>(() => new PublishFolderInstrumenter(Probes).Instrument(folder.Path));

        output.WriteLine(error.Message);
        Assert.Contains("EventSourceSupport", error.Message);
        Assert.Contains("<EventSourceSupport>true</EventSourceSupport>", error.Message);
        Assert.Equal(before, Snapshot(folder.Path));
    }

    [Fact]
    public void A_ReadyToRun_publish_is_refused_with_the_reason_and_left_untouched()
    {
        using var scratch = new TempFolder();
        var publish = Path.Combine(scratch.Path, "out");
        var (exitCode, text) = Inputs.Run("dotnet",
        [
            "publish", Inputs.CornersProject, "-c", "Release", "-r", "linux-x64", "--self-contained", "false",
            "-p:PublishReadyToRun=true",
            $"-p:BaseIntermediateOutputPath={scratch.Path}/obj/", $"-p:BaseOutputPath={scratch.Path}/bin/",
            "-p:DefaultItemExcludes=obj/**", "-o", publish, "--nologo",
        ]);
        Assert.True(exitCode == 0, text);
        var before = Snapshot(publish);

        var result = new PublishFolderInstrumenter(Probes).Instrument(publish);

        Assert.True(result.Refused);
        var refused = Assert.Single(result.Assemblies);
        Assert.Equal(InstrumentationOutcome.Refused, refused.Outcome);
        Assert.Contains("ReadyToRun", refused.Reason);
        output.WriteLine(refused.Describe());
        Assert.Equal(before, Snapshot(publish));
    }

    [Fact]
    public void A_reference_assembly_is_skipped()
    {
        // The compiler's reference assembly of the fixture (obj/…/ref/), as a publish folder may carry one.
        var reference = Inputs.CornersReferenceAssembly;
        using var folder = new TempFolder();
        File.Copy(reference, folder.File(Inputs.Corners + ".dll"));

        var result = new AssemblyInstrumenter(Probes).Instrument(folder.File(Inputs.Corners + ".dll"), folder.Path);

        Assert.Equal(InstrumentationOutcome.Skipped, result.Outcome);
        Assert.Contains("reference assembly", result.Reason);
    }

    private static Dictionary<string, (string Hash, DateTime Written)> Snapshot(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).ToDictionary(
            f => Path.GetRelativePath(directory, f),
            f => (Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))), File.GetLastWriteTimeUtc(f)));
}
