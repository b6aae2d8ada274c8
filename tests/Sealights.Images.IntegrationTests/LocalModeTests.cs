using Sealights.Images.IntegrationTests.Infrastructure;
using Sealights.Images.Testing;
using Xunit.Abstractions;
using static Sealights.Images.Testing.SampleCalls;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// Local mode (docs/configuration.md, "Local mode"): no token, only <c>SL_DEBUG_HITS_FILE</c>.
/// The agent runs, sends nothing, and writes each invocation's hits right after its response,
/// before the emulator freezes the environment (on, as on Lambda): so they are in the file
/// without any further invocation.
/// </summary>
[Collection(CoverageCollection.Name)]
public sealed class LocalModeTests(CoverageFixture images, ITestOutputHelper output) : IDisposable
{
    private const string ApplyMethod = "SampleFunction|SampleFunction.DiscountRules|Apply(System.Decimal,System.Int32,System.String)";
    private const string InfoFragment = "SampleFunction.Function|Info()";

    private readonly string _outputDirectory = Directory.CreateTempSubdirectory("sl-local-mode-").FullName;

    public void Dispose() => Directory.Delete(_outputDirectory, recursive: true);

    private string HitsFile => Path.Combine(_outputDirectory, "hits.jsonl");

    [Theory]
    [InlineData("first execution")]
    [InlineData("probes")]
    public async Task Without_a_token_each_invocations_hits_are_in_the_file_before_the_environment_freezes(string mode)
    {
        var image = mode == "probes" ? await StandInImages.BuildInstrumentedSampleAsync("net10.0", images.CoverageImage) : images.SampleImage;
        await using var container = await LambdaContainer.StartAsync(
            image,
            new Dictionary<string, string> { ["SL_DEBUG_HITS_FILE"] = "/sl-out/hits.jsonl", ["SL_LOG_LEVEL"] = "debug" },
            ["--volume", $"{_outputDirectory}:/sl-out"]);

        foreach (var (payload, methods) in new[] { (Echo, new[] { EchoMethod }), (Quote, [PriceMethod, ApplyMethod]), (Info, [InfoFragment]) })
        {
            Assert.Null((await container.InvokeAsync(payload, TimeSpan.FromSeconds(20))).FunctionError);
            // No further invocation: frozen, nothing of the agent runs until one comes. What the
            // file holds now was written before the freeze (the short wait covers the flush the
            // agent makes before it calls next, which is what the emulator waits for).
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (!HasAll(methods) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
            if (!HasAll(methods))
            {
                output.WriteLine(await container.LogsAsync());
            }
            Assert.True(HasAll(methods), $"after {payload}: {string.Join(", ", methods)} not in the hits file; it holds: {string.Join(", ", Methods())}");
        }
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Contains("local mode (no token): method hits go to SL_DEBUG_HITS_FILE /sl-out/hits.jsonl only", logs);
        Assert.Contains("hits are flushed right after every response (Telemetry API)", logs);
        // Nothing is sent: no delivery was even set up.
        Assert.DoesNotContain("footprints delivery", logs);
        Assert.DoesNotContain("inactive", logs);
        Assert.Contains(File.ReadLines(HitsFile), line => line.Contains("\"final\":true", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("first execution")]
    [InlineData("probes")]
    public async Task A_functions_own_AWS_LAMBDA_EXEC_WRAPPER_runs_and_coverage_stays_on(string mode)
    {
        // The entrypoint keeps the function's wrapper: ours runs it (as SL_EXEC_WRAPPER), or, for an
        // instrumented function, which needs no wrapper of ours, it is installed as it was set.
        var withCode = mode == "probes" ? await StandInImages.BuildInstrumentedSampleAsync("net10.0", images.CoverageImage) : images.SampleImage;
        var image = await ImageBuilder.BuildAsync(
            withCode,
            [new ImageFile("/var/task/user-wrapper.sh", "#!/bin/bash\necho \"user wrapper ran: $1\"\nexec \"$@\"\n", Executable: true)]);
        await using var container = await LambdaContainer.StartAsync(
            image,
            new Dictionary<string, string> { ["SL_DEBUG_HITS_FILE"] = "/sl-out/hits.jsonl", ["AWS_LAMBDA_EXEC_WRAPPER"] = "/var/task/user-wrapper.sh" },
            ["--volume", $"{_outputDirectory}:/sl-out"]);

        Assert.Null((await container.InvokeAsync(Echo, TimeSpan.FromSeconds(20))).FunctionError);
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Contains("user wrapper ran: /var/lang/bin/dotnet", logs);
        Assert.Contains(EchoMethod, Methods());
        Assert.DoesNotContain("did not connect", logs);
    }

    private bool HasAll(string[] methods)
    {
        var seen = Methods();
        return methods.All(m => seen.Any(s => s.Contains(m, StringComparison.Ordinal)));
    }

    private HashSet<string> Methods()
    {
        try
        {
            return DebugHitsFile.ReadMethods(HitsFile);
        }
        catch (Exception e) when (e is FileNotFoundException or System.Text.Json.JsonException)
        {
            // Not written yet, or a line being written.
            return [];
        }
    }
}
