using Sealights.Images.Testing;

namespace Sealights.Images.Aws.Tests;

/// <summary>ShellCheck on every shell script of the repository, failing on any finding (style
/// included); sourced files are followed from each script's own folder.</summary>
public sealed class ShellcheckTests
{
    [Fact]
    public async Task Every_shell_script_passes_shellcheck()
    {
        var scripts = ShellScripts.All();
        // No silent exclusion: the scripts without a .sh name are found too.
        Assert.Contains(Path.Combine(".ci", "run"), scripts);
        Assert.Contains("run", scripts);
        Assert.Contains(Path.Combine("src", "Sealights.Lambda.Agent", "layer", "extensions", "sealights-agent"), scripts);
        Assert.Contains(Path.Combine("src", "Sealights.Lambda.Agent", "layer", "sealights", "bin", "exec-wrapper"), scripts);
        Assert.Contains(Path.Combine("images", "lambda-dotnet-local", "bootstrap"), scripts);
        Assert.Contains(Path.Combine("scripts", "rebuild-image.sh"), scripts);

        var result = await Shellcheck(scripts);

        Assert.True(result.ExitCode == 0 && result.StdOut.Length == 0,
            $"shellcheck found (exit {result.ExitCode}) in {scripts.Count} scripts:\n{result.Output}");
    }

    [Fact]
    public async Task Shellcheck_reports_a_script_with_a_finding()
    {
        var folder = Directory.CreateTempSubdirectory("sl-shellcheck-").FullName;
        var script = Path.Combine(folder, "bad.sh");
        await File.WriteAllTextAsync(script, "#!/usr/bin/env bash\nrm -rf $1/*\n");

        var result = await Shellcheck([script]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("SC2086", result.StdOut, StringComparison.Ordinal);
    }

    private static Task<ProcessResult> Shellcheck(IReadOnlyList<string> scripts) =>
        ProcessRunner.RunAsync("shellcheck", ["--external-sources", "--source-path=SCRIPTDIR", "--format=gcc", .. scripts],
            TimeSpan.FromMinutes(2), workingDirectory: RepositoryPaths.Root);
}
