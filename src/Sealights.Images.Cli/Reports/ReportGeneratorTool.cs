using System.Diagnostics;

namespace Sealights.Images.Cli.Reports;

/// <summary>
/// The HTML report, made by ReportGenerator (the <c>reportgenerator</c> dotnet tool) from the
/// Cobertura file: found with <c>--reportgenerator</c>, else on PATH, else in ~/.dotnet/tools.
/// </summary>
public static class ReportGeneratorTool
{
    public const string InstallHint = "install it: dotnet tool install -g dotnet-reportgenerator-globaltool (or give its path with --reportgenerator)";

    public static string? Find(string? explicitPath)
    {
        if (explicitPath is not null)
        {
            return File.Exists(explicitPath) ? Path.GetFullPath(explicitPath) : null;
        }
        var name = OperatingSystem.IsWindows() ? "reportgenerator.exe" : "reportgenerator";
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools"));
        return folders.Select(folder => Path.Combine(folder, name)).FirstOrDefault(File.Exists);
    }

    /// <summary>Runs it; null when it made the report, else what went wrong (one line).</summary>
    public static async Task<string?> RunAsync(string tool, string cobertura, string targetDirectory, string title, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add($"-reports:{cobertura}");
        start.ArgumentList.Add($"-targetdir:{targetDirectory}");
        start.ArgumentList.Add("-reporttypes:Html");
        start.ArgumentList.Add($"-title:{title}");
        start.ArgumentList.Add("-verbosity:Warning");
        Process? started;
        try
        {
            started = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"{tool} cannot be run ({e.Message})";
        }
        if (started is null)
        {
            return $"{tool} did not start";
        }
        using var process = started;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var output = (await stdout + await stderr).Trim();
        if (process.ExitCode != 0 || !File.Exists(Path.Combine(targetDirectory, "index.html")))
        {
            var firstLine = output.Split('\n').FirstOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "no output";
            return $"ReportGenerator exited with {process.ExitCode}: {firstLine}";
        }
        return null;
    }
}
