using System.CommandLine;
using System.Reflection;
using Sealights.Coverage;
using Sealights.Coverage.BuildMaps;

namespace Sealights.Images.Cli.Commands;

/// <summary>
/// <c>sl-images scan DIR</c>: the build map of an application folder (a publish output or an
/// image's /var/task) - every source method of its application assemblies, with the ids the
/// agent reports.
/// </summary>
public static class ScanCommand
{
    public static Command Create()
    {
        var directory = new Argument<DirectoryInfo>("directory") { Description = "the application folder (publish output, /var/task)" };
        var output = new Option<FileInfo?>("--output", "-o") { Description = "write the build map here (default: standard output)" };
        var command = new Command("scan", "write the build map of an application folder")
        {
            directory,
            output,
        };
        command.SetAction(parse => Run(parse.GetValue(directory)!, parse.GetValue(output), Console.Out, Console.Error));
        return command;
    }

    public static int Run(DirectoryInfo directory, FileInfo? output, TextWriter stdout, TextWriter stderr)
    {
        if (!directory.Exists)
        {
            stderr.WriteLine($"sl-images scan: {directory.FullName} does not exist or is not a folder");
            return ExitCodes.InvalidInput;
        }

        var scan = ApplicationAssemblyFinder.Find(directory.FullName);
        var catalogs = new List<SourceMethodCatalog>();
        foreach (var assembly in scan.Assemblies)
        {
            try
            {
                catalogs.Add(SourceMethodCatalog.Read(assembly.Path));
            }
            catch (AssemblyReadException e)
            {
                stderr.WriteLine($"sl-images scan: skipped {assembly.Path}: {e.Message}");
            }
        }
        if (catalogs.Count == 0)
        {
            stderr.WriteLine(
                $"sl-images scan: no application assembly with a portable PDB in {directory.FullName} "
                + "(publish with DebugType=portable or embedded, and keep the .pdb files)");
            return ExitCodes.Finding;
        }

        var map = BuildMap.Create($"sl-images {Version()}", catalogs);
        if (output is null)
        {
            stdout.WriteLine(BuildMapJson.Serialize(map));
        }
        else
        {
            output.Directory?.Create();
            using var stream = output.Create();
            BuildMapJson.Write(stream, map);
        }
        var methods = map.Assemblies.Sum(a => a.Methods.Count);
        stderr.WriteLine($"sl-images scan: {map.Assemblies.Count} assemblies, {methods} methods{(output is null ? "" : $" -> {output.FullName}")}");
        return ExitCodes.Success;
    }

    private static string Version() =>
        typeof(ScanCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
