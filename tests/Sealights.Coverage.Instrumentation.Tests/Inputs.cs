using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;

namespace Sealights.Coverage.Instrumentation.Tests;

/// <summary>The assemblies the tests instrument, and where their copies go.</summary>
internal static class Inputs
{
    public const string Corners = "Sealights.Coverage.Instrumentation.Tests.Fixture";
    public const string CoverageFixture = "Sealights.Coverage.Tests.Fixture";
    public const string AgentFixture = "Sealights.Lambda.Agent.Tests.Fixture";
    public const string Sample = "SampleFunction";

    public static string CornersBuildFolder { get; } = Metadata("CornersBuildFolder");

    public static string CornersProject { get; } = Metadata("CornersProject");

    /// <summary>The stand-in of AWS's runtime client (images/lambda-dotnet-local/RuntimeClient).</summary>
    public static string LambdaRuntimeClient { get; } = Metadata("LambdaRuntimeClient");

    /// <summary>
    /// The sample function as the Lambda task root holds it: its build folder plus the
    /// Amazon.Lambda.Core it depends on (a class library's build folder has no package assets).
    /// </summary>
    public static TempFolder SampleTaskRoot()
    {
        var folder = new TempFolder();
        foreach (var file in Directory.EnumerateFiles(Metadata("SampleBuildFolder")))
        {
            File.Copy(file, Path.Combine(folder.Path, Path.GetFileName(file)));
        }

        File.Copy(Path.Combine(AppContext.BaseDirectory, "Amazon.Lambda.Core.dll"), Path.Combine(folder.Path, "Amazon.Lambda.Core.dll"));
        return folder;
    }

    /// <summary>The compiler's reference assembly of the corner-case fixture (obj/…/ref/).</summary>
    public static string CornersReferenceAssembly { get; } = Metadata("CornersReferenceAssembly");

    /// <summary>The plain build of <paramref name="name"/> next to the tests.</summary>
    public static string Plain(string name) => Path.Combine(AppContext.BaseDirectory, name + ".dll");

    /// <summary>A new folder holding a copy of the plain dll and pdb of each name.</summary>
    public static TempFolder CopyOf(params string[] names)
    {
        var folder = new TempFolder();
        foreach (var name in names)
        {
            File.Copy(Plain(name), Path.Combine(folder.Path, name + ".dll"));
            File.Copy(Path.ChangeExtension(Plain(name), ".pdb"), Path.Combine(folder.Path, name + ".pdb"));
        }

        return folder;
    }

    /// <summary>A copy of the corner-case fixture's build folder (deps.json and runtimeconfig.json included).</summary>
    public static TempFolder CornersFolder() => CopyOfFolder(CornersBuildFolder);

    /// <summary>A copy of the agent tests' fixture build folder.</summary>
    public static TempFolder AgentFixtureFolder() => CopyOfFolder(Metadata("AgentFixtureBuildFolder"));

    private static TempFolder CopyOfFolder(string source)
    {
        var folder = new TempFolder();
        foreach (var file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(folder.Path, Path.GetFileName(file)));
        }

        return folder;
    }

    /// <summary>Instruments a copy of each name into a new folder.</summary>
    public static TempFolder Instrumented(params string[] names)
    {
        var folder = CopyOf(names);
        var instrumenter = new AssemblyInstrumenter(ProbesAssembly.Default());
        foreach (var name in names)
        {
            var result = instrumenter.Instrument(Path.Combine(folder.Path, name + ".dll"), folder.Path);
            Assert.True(result.Outcome == InstrumentationOutcome.Instrumented, result.Describe());
        }

        return folder;
    }

    public static (int ExitCode, string Output) Run(string fileName, IEnumerable<string> arguments, IDictionary<string, string>? environment = null, string? stdin = null)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        // The test host's MSBuild variables would point a nested dotnet at the outer build's state.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        using var process = Process.Start(start)!;
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', start.ArgumentList)} did not finish");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string Metadata(string key) =>
        typeof(Inputs).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}

/// <summary>A scratch folder removed at dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("sl-instrument-tests-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// Loads instrumented copies in isolation: each context has its own statics (its own hit array),
/// the Probes library comes from the tests' own folder like any shared dependency.
/// </summary>
internal sealed class IsolatedLoad(string directory) : AssemblyLoadContext(isCollectible: true)
{
    public Assembly LoadFile(string name) => LoadFromAssemblyPath(System.IO.Path.Combine(directory, name + ".dll"));

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var candidate = System.IO.Path.Combine(directory, assemblyName.Name + ".dll");
        return assemblyName.Name != ProbesAssembly.Name && File.Exists(candidate) ? LoadFromAssemblyPath(candidate) : null;
    }
}
