using System.Text.Json.Nodes;
using Sealights.Coverage.BuildMaps;
using Sealights.Images.Testing;

namespace Sealights.Images.Cli.Tests;

/// <summary><c>sl-images instrument</c> as a real process: the publish-folder form and the single-assembly form.</summary>
public sealed class InstrumentCommandTests
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "sl-images.dll");
    private static readonly Lazy<Task<string>> Publish = new(PublishSampleAsync);

    private static Task<ProcessResult> CliAsync(params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", [Cli, .. arguments], TimeSpan.FromMinutes(2));

    [Fact]
    public async Task A_publish_folder_is_instrumented_in_place_once_and_scans_to_the_same_ids()
    {
        using var folder = await CopyOfPublishAsync();

        var first = await CliAsync("instrument", folder.Path);
        var second = await CliAsync("instrument", folder.Path);

        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Matches(@"^SampleFunction\.dll: instrumented \d+ of \d+ methods\r?\n$", first.StdOut);
        Assert.Contains("sl-images instrument: 1 assembly,", first.StdErr);
        Assert.True(File.Exists(Path.Combine(folder.Path, "Sealights.Coverage.Probes.dll")));
        Assert.True(File.Exists(Path.Combine(folder.Path, "sealights-instrumented.json")));
        Assert.Contains("Sealights.Coverage.Probes/", File.ReadAllText(Path.Combine(folder.Path, "SampleFunction.deps.json")));

        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Contains("SampleFunction.dll: already instrumented", second.StdOut);

        Assert.Equal(await ScanIdsAsync(await Publish.Value), await ScanIdsAsync(folder.Path));
    }

    [Fact]
    public async Task Single_assemblies_are_written_to_the_output_folder_and_nothing_else_changes()
    {
        var publish = await Publish.Value;
        using var output = new Scratch();
        var input = Path.Combine(publish, "SampleFunction.dll");
        var before = File.ReadAllBytes(input);

        var result = await CliAsync("instrument", "--assembly", input, "--assembly", Path.Combine(publish, "Amazon.Lambda.Core.dll"), "--output-dir", output.Path);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("SampleFunction.dll: instrumented", result.StdOut);
        Assert.Contains("Amazon.Lambda.Core.dll: skipped", result.StdOut);
        Assert.Equal(
            new[] { "Amazon.Lambda.Core.dll", "SampleFunction.dll", "SampleFunction.pdb" },
            Directory.GetFiles(output.Path).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(before, File.ReadAllBytes(input));
        Assert.Equal(File.ReadAllBytes(Path.Combine(publish, "Amazon.Lambda.Core.dll")), File.ReadAllBytes(Path.Combine(output.Path, "Amazon.Lambda.Core.dll")));
        Assert.NotEqual(before, File.ReadAllBytes(Path.Combine(output.Path, "SampleFunction.dll")));
    }

    [Theory]
    [InlineData("give a publish folder, or --assembly FILE")]
    [InlineData("give a publish folder, or --assembly FILE", "/tmp", "--assembly", "/tmp/x.dll", "--output-dir", "/tmp/out")]
    [InlineData("--assembly needs --output-dir", "--assembly", "/tmp/x.dll")]
    [InlineData("--output-dir goes with --assembly", "/tmp", "--output-dir", "/tmp/out")]
    [InlineData("/nonexistent/sl-instrument does not exist", "/nonexistent/sl-instrument")]
    public async Task Bad_input_is_refused_with_one_line(string expected, params string[] arguments)
    {
        var result = await CliAsync(["instrument", .. arguments]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.StdErr);
    }

    [Fact]
    public async Task A_folder_without_application_assemblies_is_a_finding()
    {
        using var empty = new Scratch();
        File.WriteAllText(Path.Combine(empty.Path, "readme.txt"), "no assemblies here");

        var result = await CliAsync("instrument", empty.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no application assembly to instrument", result.StdErr);
    }

    [Fact]
    public async Task A_trimmed_app_without_EventSources_is_refused_and_left_as_it_is()
    {
        using var folder = await CopyOfPublishAsync();
        var config = Path.Combine(folder.Path, "SampleFunction.runtimeconfig.json");
        var json = JsonNode.Parse(File.ReadAllText(config))!;
        json["runtimeOptions"]!["configProperties"] = new JsonObject { ["System.Diagnostics.Tracing.EventSource.IsSupported"] = false };
        File.WriteAllText(config, json.ToJsonString());
        var dll = File.ReadAllBytes(Path.Combine(folder.Path, "SampleFunction.dll"));

        var result = await CliAsync("instrument", folder.Path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("EventSourceSupport", result.StdErr);
        Assert.Equal(dll, File.ReadAllBytes(Path.Combine(folder.Path, "SampleFunction.dll")));
        Assert.False(File.Exists(Path.Combine(folder.Path, "Sealights.Coverage.Probes.dll")));
    }

    private static async Task<string[]> ScanIdsAsync(string folder)
    {
        var result = await CliAsync("scan", folder);
        Assert.True(result.ExitCode == 0, result.Output);
        return BuildMapJson.Deserialize(result.StdOut).Assemblies.SelectMany(a => a.Methods).Select(m => m.Id).ToArray();
    }

    private static async Task<Scratch> CopyOfPublishAsync()
    {
        var publish = await Publish.Value;
        var copy = new Scratch();
        foreach (var file in Directory.EnumerateFiles(publish))
        {
            File.Copy(file, Path.Combine(copy.Path, Path.GetFileName(file)));
        }

        return copy;
    }

    private static async Task<string> PublishSampleAsync()
    {
        var publish = Path.Combine(RepositoryPaths.Artifacts, "cli-tests", "instrument-sample");
        (await ProcessRunner.RunAsync(
            "dotnet", ["publish", RepositoryPaths.Combine("samples", "SampleFunction"), "-c", "Release", "-f", "net10.0", "-o", publish, "--nologo"],
            TimeSpan.FromMinutes(5))).EnsureSuccess("dotnet publish SampleFunction");
        return publish;
    }

    private sealed class Scratch : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("sl-instrument-cli-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
