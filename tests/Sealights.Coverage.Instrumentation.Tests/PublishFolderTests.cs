using Sealights.Tests.Shared;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Sealights.Coverage.Instrumentation.Tests;

/// <summary>(c) The publish-folder operation: what it adds, what it refuses, and that a second run changes nothing.</summary>
public sealed class PublishFolderTests(ITestOutputHelper output)
{
    private static readonly ProbesAssembly Probes = ProbesAssembly.Default();

    private static readonly string Arch = Crossgen2Pack.Arch;

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
    public void The_lambda_runtime_client_loads_the_probes_library_through_the_functions_deps_json()
    {
        // As AWS starts a class-library function: dotnet exec --depsfile F.deps.json … RuntimeSupport.dll handler.
        // Init builds the handler's object, whose probed constructor loads the library; with init
        // done, the client asks a Runtime API that is not there (a closed loopback port) and stops.
        using var taskRoot = Inputs.SampleTaskRoot();
        var plainDeps = File.ReadAllText(taskRoot.File("SampleFunction.deps.json"));
        Assert.Single(new PublishFolderInstrumenter(Probes).Instrument(taskRoot.Path).Probed);

        var instrumented = StartRuntimeClient(taskRoot);
        File.WriteAllText(taskRoot.File("SampleFunction.deps.json"), plainDeps);
        var withoutEntry = StartRuntimeClient(taskRoot);

        output.WriteLine($"with the deps.json entry: {instrumented.Output.Trim()}\nwithout it: {withoutEntry.Output.Split('\n')[0]}");
        Assert.Contains("Runtime API failure", instrumented.Output);
        Assert.DoesNotContain("Sealights.Coverage.Probes", instrumented.Output);
        Assert.Contains("Could not load file or assembly 'Sealights.Coverage.Probes", withoutEntry.Output);
    }

    private static (int ExitCode, string Output) StartRuntimeClient(TempFolder taskRoot)
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return Inputs.Run(
            "dotnet",
            ["exec", "--depsfile", taskRoot.File("SampleFunction.deps.json"), "--runtimeconfig", taskRoot.File("SampleFunction.runtimeconfig.json"),
             Inputs.LambdaRuntimeClient, "SampleFunction::SampleFunction.Function::Handle"],
            new Dictionary<string, string> { ["AWS_LAMBDA_RUNTIME_API"] = $"127.0.0.1:{closedPort}" });
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
            "publish", Inputs.CornersProject, "-c", "Release", "-r", $"linux-{Arch}", "--self-contained", "false",
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

        // The MSBuild package's order instead: instrument the IL, then compile it ReadyToRun (with
        // the crossgen2 that publish just restored). The result runs its checks and counts as instrumented.
        using var instrumented = Inputs.CornersFolder();
        new PublishFolderInstrumenter(Probes).Instrument(instrumented.Path);
        var dll = instrumented.File(Inputs.Corners + ".dll");
        var compiled = instrumented.File("r2r.dll");
        var r2r = Inputs.Run(Crossgen2Pack.Executable(), Crossgen2Pack.Arguments(dll, compiled, instrumented.File(ProbesAssembly.FileName)));
        Assert.True(r2r.ExitCode == 0, r2r.Output);
        File.Move(compiled, dll, overwrite: true);

        var run = Inputs.Run("dotnet", [dll]);
        Assert.True(run.ExitCode == 0, run.Output);
        var again = Assert.Single(new PublishFolderInstrumenter(Probes).Instrument(instrumented.Path).Assemblies);
        Assert.Equal(InstrumentationOutcome.AlreadyInstrumented, again.Outcome);
        output.WriteLine(again.Describe());
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

    [Theory]
    [InlineData("Microsoft.Extensions.Corners")]
    [InlineData("AWSSDK.Corners")]
    [InlineData("netstandard")]
    public void An_assembly_with_a_framework_name_is_skipped_as_scan_skips_it(string name)
    {
        // The fixture with its PDB, renamed: code and symbols like an application's, a framework's name.
        using var folder = new TempFolder();
        var path = folder.File(name + ".dll");
        using (var module = Mono.Cecil.ModuleDefinition.ReadModule(Inputs.Plain(Inputs.Corners), new Mono.Cecil.ReaderParameters { ReadSymbols = true }))
        {
            module.Assembly.Name.Name = name;
            module.Write(path, new Mono.Cecil.WriterParameters { WriteSymbols = true });
        }
        Assert.True(File.Exists(folder.File(name + ".pdb")));
        using var output = new TempFolder();

        var result = new AssemblyInstrumenter(Probes).Instrument(path, output.Path, copyUnchanged: true);

        Assert.Equal(InstrumentationOutcome.Skipped, result.Outcome);
        Assert.Contains("framework or platform assembly name", result.Reason);
        // Each input gets an output (the MSBuild package swaps them in): here the unchanged copy.
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(output.File(name + ".dll")));
        Assert.False(Sealights.Coverage.FrameworkAssemblyNames.IsFramework(Inputs.Corners), "the fixture's own name must not be a framework name");
    }

    private static Dictionary<string, (string Hash, DateTime Written)> Snapshot(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).ToDictionary(
            f => Path.GetRelativePath(directory, f),
            f => (Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))), File.GetLastWriteTimeUtc(f)));
}
