using System.CommandLine;
using Sealights.Coverage.Instrumentation;

namespace Sealights.Images.Cli.Commands;

/// <summary>
/// <c>sl-images instrument DIR</c>: compiles method probes into a publish folder's application
/// assemblies in place (a CI step before <c>docker build</c>). <c>--assembly FILE … --output-dir
/// DIR</c>: instruments single assemblies into another folder, nothing else (the MSBuild package's
/// form, before ReadyToRun compilation; it adds the Probes library to the publish itself).
/// </summary>
public static class InstrumentCommand
{
    public static Command Create()
    {
        var directory = new Argument<DirectoryInfo?>("directory")
        {
            Description = "the publish folder to instrument in place",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var assemblies = new Option<FileInfo[]>("--assembly")
        {
            Description = "an assembly to instrument into --output-dir (repeatable); its PDB is read beside it or embedded",
        };
        var outputDir = new Option<DirectoryInfo?>("--output-dir")
        {
            Description = "with --assembly: where the instrumented assemblies and PDBs go (each input gets an output; unchanged copies for skipped ones)",
        };
        var command = new Command("instrument", "compile coverage probes into a publish folder's application assemblies (in place), or into copies of single assemblies")
        {
            directory, assemblies, outputDir,
        };
        command.SetAction(parse => Run(parse.GetValue(directory), parse.GetValue(assemblies) ?? [], parse.GetValue(outputDir), Console.Out, Console.Error));
        return command;
    }

    public static int Run(DirectoryInfo? directory, IReadOnlyList<FileInfo> assemblies, DirectoryInfo? outputDir, TextWriter stdout, TextWriter stderr)
    {
        if ((directory is null) == (assemblies.Count == 0))
        {
            stderr.WriteLine("sl-images instrument: give a publish folder, or --assembly FILE (repeatable) with --output-dir DIR; not both");
            return ExitCodes.InvalidInput;
        }

        if ((assemblies.Count > 0) != (outputDir is not null))
        {
            stderr.WriteLine(directory is null
                ? "sl-images instrument: --assembly needs --output-dir DIR (single assemblies are never rewritten in place)"
                : "sl-images instrument: --output-dir goes with --assembly; a publish folder is instrumented in place");
            return ExitCodes.InvalidInput;
        }

        ProbesAssembly probes;
        try
        {
            probes = ProbesAssembly.Default();
        }
        catch (FileNotFoundException e)
        {
            stderr.WriteLine($"sl-images instrument: {e.Message} (a broken installation of sl-images)");
            return ExitCodes.InvalidInput;
        }

        return directory is not null
            ? RunFolder(directory, probes, stdout, stderr)
            : RunAssemblies(assemblies, outputDir!, probes, stdout, stderr);
    }

    private static int RunFolder(DirectoryInfo directory, ProbesAssembly probes, TextWriter stdout, TextWriter stderr)
    {
        if (!directory.Exists)
        {
            stderr.WriteLine($"sl-images instrument: {directory.FullName} does not exist or is not a folder");
            return ExitCodes.InvalidInput;
        }

        PublishFolderResult result;
        try
        {
            result = new PublishFolderInstrumenter(probes).Instrument(directory.FullName);
        }
        catch (InstrumentationException e)
        {
            stderr.WriteLine($"sl-images instrument: {directory.FullName} left as it is: {e.Message}");
            return ExitCodes.InvalidInput;
        }

        foreach (var assembly in result.Assemblies)
        {
            stdout.WriteLine(assembly.Describe());
        }

        if (result.Refused)
        {
            stderr.WriteLine($"sl-images instrument: {directory.FullName}: an assembly cannot be instrumented (see above){(result.Probed.Any() ? "" : "; nothing was changed")}");
            return ExitCodes.InvalidInput;
        }

        if (!result.Probed.Any())
        {
            stderr.WriteLine(
                $"sl-images instrument: no application assembly to instrument in {directory.FullName} "
                + "(publish with DebugType=portable or embedded, and keep the .pdb files)");
            return ExitCodes.Finding;
        }

        var probed = result.Probed.ToList();
        stderr.WriteLine($"sl-images instrument: {probed.Count} {(probed.Count == 1 ? "assembly" : "assemblies")}, {probed.Sum(a => a.Probes)} methods probed; {ProbesAssembly.FileName}, the deps.json entry and {InstrumentedManifest.FileName} in place");
        return ExitCodes.Success;
    }

    private static int RunAssemblies(IReadOnlyList<FileInfo> assemblies, DirectoryInfo outputDir, ProbesAssembly probes, TextWriter stdout, TextWriter stderr)
    {
        var missing = assemblies.FirstOrDefault(a => !a.Exists);
        if (missing is not null)
        {
            stderr.WriteLine($"sl-images instrument: {missing.FullName} does not exist");
            return ExitCodes.InvalidInput;
        }

        var sameFolder = assemblies.FirstOrDefault(a => string.Equals(a.DirectoryName, outputDir.FullName.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal));
        if (sameFolder is not null)
        {
            stderr.WriteLine($"sl-images instrument: --output-dir is the folder of {sameFolder.FullName}: give another folder");
            return ExitCodes.InvalidInput;
        }

        var instrumenter = new AssemblyInstrumenter(probes);
        var refused = 0;
        foreach (var assembly in assemblies)
        {
            var result = instrumenter.Instrument(assembly.FullName, outputDir.FullName, copyUnchanged: true);
            stdout.WriteLine(result.Describe());
            refused += result.Outcome == InstrumentationOutcome.Refused ? 1 : 0;
        }

        if (refused > 0)
        {
            stderr.WriteLine($"sl-images instrument: {refused} of {assemblies.Count} assemblies cannot be instrumented (see above) and were not written to {outputDir.FullName}");
            return ExitCodes.InvalidInput;
        }

        return ExitCodes.Success;
    }
}
