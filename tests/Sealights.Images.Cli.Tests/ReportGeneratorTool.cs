using System.Text.Json.Nodes;
using Sealights.Images.Testing;

namespace Sealights.Images.Cli.Tests;

/// <summary>
/// ReportGenerator, the dotnet tool, installed once into a folder of its own
/// (<c>dotnet tool install --tool-path</c>), to read what <c>sl-images report</c> writes as a
/// third party would.
/// </summary>
public sealed class ReportGeneratorTool : IAsyncLifetime
{
    public const string Version = "5.6.0";

    private static readonly string ToolPath = Path.Combine(RepositoryPaths.Artifacts, "cli-tests", $"reportgenerator-{Version}");

    public string Executable => Path.Combine(ToolPath, OperatingSystem.IsWindows() ? "reportgenerator.exe" : "reportgenerator");

    // One install at a time: a class fixture and a collection fixture may start together.
    private static readonly SemaphoreSlim Installing = new(1, 1);

    public async Task InitializeAsync()
    {
        await Installing.WaitAsync();
        try
        {
            if (!File.Exists(Executable))
            {
                (await ProcessRunner.RunAsync("dotnet", ["tool", "install", "--tool-path", ToolPath, "dotnet-reportgenerator-globaltool", "--version", Version], TimeSpan.FromMinutes(5)))
                    .EnsureSuccess("dotnet tool install dotnet-reportgenerator-globaltool");
            }
        }
        finally
        {
            Installing.Release();
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>ReportGenerator's JSON summary of a coverage file (its Summary.json).</summary>
    public async Task<JsonObject> SummaryAsync(string report, string targetDirectory)
    {
        (await ProcessRunner.RunAsync(Executable, [$"-reports:{report}", $"-targetdir:{targetDirectory}", "-reporttypes:JsonSummary", "-verbosity:Error"], TimeSpan.FromMinutes(2)))
            .EnsureSuccess($"reportgenerator {report}");
        return JsonNode.Parse(File.ReadAllText(Path.Combine(targetDirectory, "Summary.json")))!.AsObject();
    }
}
