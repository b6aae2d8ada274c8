using System.Diagnostics;
using System.Reflection;

namespace Sealights.Lambda.Agent.Tests.Infrastructure;

/// <summary>The fixture function in its two shapes: the plain (JIT) build and a ReadyToRun publish.</summary>
internal static class FixtureBuilds
{
    public const string AssemblyName = "Sealights.Lambda.Agent.Tests.Fixture";

    private static readonly Lazy<Task<string>> ReadyToRun = new(PublishReadyToRunAsync);

    private static readonly Lazy<Task<string>> Net8 = new(PublishNet8Async);

    /// <summary>The fixture as built with the solution (IL only: every method is jitted).</summary>
    public static string JitAssembly { get; } = Metadata("FixtureAssembly");

    /// <summary>
    /// The fixture published ReadyToRun the way a coverage build must be: no cross-method
    /// inlining in the precompiled code. Published once per test run, into a temp folder with its
    /// own obj/bin, so the repository's build outputs are left alone.
    /// </summary>
    public static Task<string> ReadyToRunAssemblyAsync() => ReadyToRun.Value;

    /// <summary>
    /// The fixture built for net8.0 and published self-contained with the .NET 8 runtime pack
    /// (the package mirror has it; the machine need not have a .NET 8 install): a real .NET 8
    /// runtime to record streams from. Returns the app host executable.
    /// </summary>
    public static Task<string> Net8ExecutableAsync() => Net8.Value;

    private static async Task<string> PublishNet8Async()
    {
        var output = await PublishAsync("net8", "-p:AppTargetFramework=net8.0", "--self-contained", "true");
        return Path.Combine(output, AssemblyName);
    }

    private static async Task<string> PublishReadyToRunAsync()
    {
        var output = await PublishAsync(
            "r2r",
            "--self-contained", "false",
            "-p:PublishReadyToRun=true",
            "-p:PublishReadyToRunCrossgen2ExtraArgs=--codegenopt:JitNoInline=1");
        return Path.Combine(output, AssemblyName + ".dll");
    }

    /// <summary>Publishes the fixture for linux-x64 into a temp folder of its own (obj/bin included); returns the output folder.</summary>
    private static async Task<string> PublishAsync(string flavor, params string[] arguments)
    {
        var root = Path.Combine(Path.GetTempPath(), "sl-agent-tests", flavor + "-" + Guid.NewGuid().ToString("N")[..8]);
        var output = Path.Combine(root, "out");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteQuietly(root);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "publish", Metadata("FixtureProject"),
            "-c", "Release", "-r", "linux-x64",
            $"-p:BaseIntermediateOutputPath={root}/obj/",
            $"-p:BaseOutputPath={root}/bin/",
            // The project folder's own obj/ would otherwise be globbed as sources.
            "-p:DefaultItemExcludes=obj/**",
            "-o", output,
        }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        // The test host's MSBuild variables would point the nested build at the outer one's state.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{flavor} publish of the fixture failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        }

        return output;
    }

    private static void DeleteQuietly(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static string Metadata(string key) =>
        typeof(FixtureBuilds).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
