using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Sealights.Images.IntegrationTests.Infrastructure;
using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// Warm attribution (issue 15, "Must show"): the warm-attribution function
/// (tests/Sealights.Lambda.Attribution.Function) published with the MSBuild package, so its
/// assemblies carry method probes, run under the emulator with the agent delivering to the test
/// backend. One warm environment serves A, B, A, C, B: each invocation's hits entry must be
/// exactly the methods that invocation executed. The expected sets come from the fixture itself
/// (each method's name says which payloads run it, read from the build map the publish wrote) and
/// are cross-checked with a cold environment per payload. JIT and ReadyToRun, net10.0 and net8.0.
/// </summary>
public sealed class WarmAttributionTests(PackageFixture package, ITestOutputHelper output) : IClassFixture<PackageFixture>, IDisposable
{
    private const string Project = "Sealights.Lambda.Attribution.Function";
    private const string Handler = Project + "::Attribution.Function_Init::Handle_ABC";
    private const string Bsid = "bsid-warm";
    private const string Execution = "execution-warm";
    private const string Init = "Init";
    private static readonly string[] WarmSequence = ["A", "B", "A", "C", "B"];

    private readonly ScenarioScratch _scratch = new("sl-warm-");

    private string Token => field ??= SealightsTokens.Create($"http://127.0.0.1:{_scratch.BackendPort}/api");

    public void Dispose() => _scratch.Dispose();

    public static TheoryData<string, bool> Builds => new()
    {
        { "net10.0", false },
        { "net10.0", true },
        { "net8.0", false },
        { "net8.0", true },
    };

    [Theory]
    [MemberData(nameof(Builds))]
    public async Task Each_warm_invocation_reports_exactly_the_methods_it_executed(string framework, bool readyToRun)
    {
        var build = await PublishAsync(framework, readyToRun, probes: true);
        Assert.True(File.Exists(Path.Combine(build.PublishDirectory, "sealights-instrumented.json")), "sealights-instrumented.json missing from the publish folder");
        Assert.True(File.Exists(Path.Combine(build.PublishDirectory, "Sealights.Coverage.Probes.dll")), "the probes' library missing from the publish folder");
        Assert.Contains("Sealights.Coverage.Probes", File.ReadAllText(Path.Combine(build.PublishDirectory, Project + ".deps.json")));

        // The truth from the fixture: the payloads each method's name carries.
        var expected = ExpectedByPayload(build.BuildMap);
        output.WriteLine(string.Join('\n', expected.Select(e => $"{e.Key}: {string.Join(", ", e.Value.Order(StringComparer.Ordinal))}")));
        // The fixture's claim, checked: overlapping but different sets.
        Assert.NotEmpty(expected[Init]);
        foreach (var (x, y) in new[] { ("A", "B"), ("B", "C"), ("A", "C") })
        {
            Assert.NotEmpty(expected[x].Intersect(expected[y]));
            Assert.NotEmpty(expected[x].Except(expected[y]));
            Assert.NotEmpty(expected[y].Except(expected[x]));
        }

        var backend = await TestBackendProcess.StartAsync(_scratch.Directory, _scratch.BackendPort, Token, Execution, output.WriteLine);
        _scratch.Own(backend);
        await backend.StatsAsync();

        // Cold: a fresh environment per payload.
        var cold = new Dictionary<string, IReadOnlyList<string>>();
        foreach (var payload in new[] { "A", "B", "C" })
        {
            var (initEntries, invocations) = await RunEnvironmentAsync(build.Image, backend, [payload]);
            cold[payload] = AssertExact(expected, [payload], initEntries, invocations)[0];
        }

        // Warm: one environment, A B A C B; each invocation as its payload ran cold.
        var (warmInit, warm) = await RunEnvironmentAsync(build.Image, backend, WarmSequence);
        var warmMethods = AssertExact(expected, WarmSequence, warmInit, warm);
        for (var i = 0; i < WarmSequence.Length; i++)
        {
            Assert.Equal(cold[WarmSequence[i]], warmMethods[i]);
        }
        Assert.DoesNotContain(backend.DeliveredMethods(), m => m.Contains("_None", StringComparison.Ordinal));
    }

    /// <summary>
    /// Each invocation's entry is exactly its payload's methods. Init's methods are reported once:
    /// in init entries, or with the first invocation (a probe flush follows an invocation's
    /// response, so what init ran may travel with the first one; that is the only mixing
    /// allowed, and the output says which it was). Returns each invocation's methods without init's.
    /// </summary>
    private List<IReadOnlyList<string>> AssertExact(Dictionary<string, HashSet<string>> expected, string[] payloads, List<DeliveredHits> initEntries, List<DeliveredHits> invocations)
    {
        Assert.Equal(payloads.Length, invocations.Count);
        Assert.All(invocations.Concat(initEntries), e => Assert.Equal(e.Methods.Count, e.Methods.Distinct().Count()));
        var initReported = initEntries.SelectMany(e => e.Methods).ToList();
        var initWithFirst = invocations[0].Methods.Where(expected[Init].Contains).ToList();
        output.WriteLine($"init's {expected[Init].Count} methods: {initReported.Count} in init entries, {initWithFirst.Count} with the first invocation");
        Assert.Equal(Sorted(expected[Init]), Sorted(initReported.Concat(initWithFirst)));
        Assert.Equal(initReported.Count + initWithFirst.Count, expected[Init].Count);

        var result = new List<IReadOnlyList<string>>();
        for (var i = 0; i < payloads.Length; i++)
        {
            var ran = Sorted(invocations[i].Methods.Where(m => i > 0 || !expected[Init].Contains(m)));
            var want = expected[payloads[i]];
            Assert.True(
                Sorted(want).SequenceEqual(ran),
                $"invocation {i + 1} ({payloads[i]}): missed [{string.Join(", ", want.Except(ran))}], not executed in it [{string.Join(", ", ran.Except(want))}]");
            result.Add(ran);
        }
        return result;
    }

    [Theory]
    [MemberData(nameof(Builds))]
    public async Task Instrumentation_cost_in_publish_time_and_image_size_is_printed(string framework, bool readyToRun)
    {
        var plain = await PublishAsync(framework, readyToRun, probes: false);
        var probed = await PublishAsync(framework, readyToRun, probes: true);

        // The publish times are single runs on a shared machine; the instrument step times itself.
        var step = Regex.Match(probed.Log, @"Sealights method probes: .* instrumented in (\d+) ms");
        Assert.True(step.Success, "the publish did not say how long instrumenting took");
        var line = $"{framework} {(readyToRun ? "R2R" : "JIT")}: publish {plain.PublishTime.TotalSeconds:0.0} s -> {probed.PublishTime.TotalSeconds:0.0} s with probes "
            + $"(instrument step {step.Groups[1].Value} ms); "
            + $"publish folder {plain.PublishBytes / 1024.0:0} KB -> {probed.PublishBytes / 1024.0:0} KB; "
            + $"image {plain.ImageBytes / 1024.0 / 1024.0:0.00} MB -> {probed.ImageBytes / 1024.0 / 1024.0:0.00} MB "
            + $"(+{(probed.ImageBytes - plain.ImageBytes) / 1024.0:0} KB)";
        output.WriteLine(line);
        Console.WriteLine(line);

        Assert.False(File.Exists(Path.Combine(plain.PublishDirectory, "sealights-instrumented.json")), "SealightsProbes=false published the instrumented marker");
        Assert.False(File.Exists(Path.Combine(plain.PublishDirectory, "Sealights.Coverage.Probes.dll")), "SealightsProbes=false published the probes' library");
        Assert.True(File.Exists(Path.Combine(probed.PublishDirectory, "sealights-instrumented.json")));
        // Same methods mapped either way: instrumentation adds no source method.
        Assert.Equal(Sorted(AppMethods(plain.BuildMap)), Sorted(AppMethods(probed.BuildMap)));
    }

    /// <summary>Starts an environment, invokes the payloads one after the other, stops it; its hits entries by kind.</summary>
    private async Task<(List<DeliveredHits> Init, List<DeliveredHits> Invocations)> RunEnvironmentAsync(string image, TestBackendProcess backend, string[] payloads)
    {
        var before = backend.DeliveredHits().Count;
        List<DeliveredHits> Entries() => backend.DeliveredHits().Skip(before).ToList();
        await using var container = await LambdaContainer.StartAsync(image, new Dictionary<string, string>
        {
            ["SL_TOKEN"] = Token,
            ["SL_BUILD_SESSION_ID"] = Bsid,
            // Every flush sent right after its invocation, within a roomy post-runtime budget.
            ["SL_FLUSH_INTERVAL_SECONDS"] = "0",
            ["SL_FLUSH_BUDGET_MS"] = "5000",
        });
        var windows = new List<(DateTimeOffset Start, DateTimeOffset End)>();
        foreach (var payload in payloads)
        {
            var start = DateTimeOffset.UtcNow;
            var result = await container.InvokeAsync(payload);
            windows.Add((start, DateTimeOffset.UtcNow));
            Assert.Equal(200, result.StatusCode);
            Assert.StartsWith(payload + ":", result.Body);
        }
        // When each entry is sent is FootprintsDeliveryTests' matter; here: what each one holds.
        await container.StopAsync();
        var stopped = DateTimeOffset.UtcNow;
        output.WriteLine(await container.LogsAsync());
        await ScenarioScratch.WaitUntilAsync(
            () => Task.FromResult(Entries().Count(e => !e.Init && e.Methods.Count > 0) >= payloads.Length),
            $"footprints of {payloads.Length} invocations", container, output, TimeSpan.FromSeconds(10));

        var entries = Entries();
        // In invocation order: an entry starts with its invocation (stable: delivery order breaks ties).
        var invocations = entries.Where(e => !e.Init && e.Methods.Count > 0).OrderBy(e => e.Start).ToList();
        Assert.True(
            payloads.Length == invocations.Count,
            $"{payloads.Length} invocations ({string.Join(' ', payloads)}) but {invocations.Count} hits entries with methods:\n"
            + string.Join('\n', entries.Select(e => $"{(e.Init ? "init " : "")}{(e.Final ? "final " : "")}{e.Start:HH:mm:ss}-{e.End:HH:mm:ss}: {string.Join(", ", e.Methods.Select(m => m.Split('|')[^1]))}")));
        // Each entry's window (whole epoch seconds: start rounded down, end up) starts with its
        // invocation and ends before the next one began. When that was is not seen from here: the
        // hits are taken after the response (at the runtime's next request, or for the first
        // invocation by the agent's flush in post-runtime time, which can outlast the caller's
        // turnaround by tens of ms), and the next invocation is dispatched only after that; it has
        // surely begun once it is answered.
        var timing = string.Join('\n', invocations.Select((e, i) =>
            $"invocation {i + 1}: sent {windows[i].Start:HH:mm:ss.fff}, answered {windows[i].End:HH:mm:ss.fff}; entry {e.Start:HH:mm:ss}-{e.End:HH:mm:ss}"));
        output.WriteLine(timing);
        for (var i = 0; i < invocations.Count; i++)
        {
            var next = i + 1 < windows.Count ? windows[i + 1].End : stopped;
            Assert.True(
                invocations[i].Start >= windows[i].Start.AddSeconds(-1.05) && invocations[i].Start <= windows[i].End.AddMilliseconds(50),
                $"invocation {i + 1}'s entry does not start within its invocation:\n{timing}");
            Assert.True(
                invocations[i].End >= windows[i].Start.AddMilliseconds(-50) && invocations[i].End <= next.AddSeconds(1.05),
                $"invocation {i + 1}'s entry does not end between its invocation and the next one's answer:\n{timing}");
        }
        return (entries.Where(e => e.Init).ToList(), invocations);
    }

    /// <summary>
    /// Each method's payloads from its name: the member's tag (Handle_ABC, Steps_C, a lambda of
    /// Rank_B), else its type's (constructors and members of Receipt_ABC, Parcel_BC, Function_Init).
    /// _Init runs in the environment's init, _None never.
    /// </summary>
    private static Dictionary<string, HashSet<string>> ExpectedByPayload(JsonNode buildMap)
    {
        var expected = new[] { Init, "A", "B", "C" }.ToDictionary(k => k, _ => new HashSet<string>(StringComparer.Ordinal));
        foreach (var id in AppMethods(buildMap))
        {
            var parts = id.Split('|');
            var member = parts[2].Split('(')[0];
            var tag = Regex.Match(member, "_(Init|None|[ABC]+)(?=$|>|`)") is { Success: true } m
                ? m.Groups[1].Value
                : Regex.Match(parts[1], "_(Init|None|[ABC]+)$") is { Success: true } t ? t.Groups[1].Value : null;
            Assert.True(tag is not null, $"{id} carries no payload tag: every method of the fixture must say which payloads run it");
            if (tag is Init)
            {
                expected[Init].Add(id);
            }
            else if (tag != "None")
            {
                foreach (var payload in tag!)
                {
                    expected[payload.ToString()].Add(id);
                }
            }
        }
        return expected;
    }

    private static IEnumerable<string> AppMethods(JsonNode buildMap) =>
        buildMap["assemblies"]!.AsArray()
            .Where(a => (string?)a!["name"] == Project)
            .SelectMany(a => a!["methods"]!.AsArray().Select(m => (string)m!["id"]!));

    private static List<string> Sorted(IEnumerable<string> ids) => ids.Distinct().Order(StringComparer.Ordinal).ToList();

    // One publish per build shape and test run: both tests of a shape use it.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<Build>>> PublishedBuilds = new();

    private Task<Build> PublishAsync(string framework, bool readyToRun, bool probes) =>
        PublishedBuilds.GetOrAdd($"{framework}/{readyToRun}/{probes}", _ => new Lazy<Task<Build>>(() => PublishOnceAsync(framework, readyToRun, probes))).Value;

    private async Task<Build> PublishOnceAsync(string framework, bool readyToRun, bool probes)
    {
        var project = LambdaContainersPackage.CreateConsumer(
            package.PackageVersion, framework, probes ? "" : "<SealightsProbes>false</SealightsProbes>",
            Path.Combine("tests", Project), Project, Handler);
        var tag = $"{framework.Replace(".", "")}-{(readyToRun ? "r2r" : "jit")}-{(probes ? "probes" : "plain")}";
        var (registry, repository) = StandInImages.ContainerTarget("it/warm-attribution");
        var arguments = new List<string>
        {
            "publish", project, "-t:PublishContainer", "-c", "Release", "--nologo",
            $"-p:ContainerRegistry={registry}", $"-p:ContainerRepository={repository}", $"-p:ContainerImageTag={tag}",
        };
        if (readyToRun)
        {
            arguments.AddRange(["-r", "linux-x64", "-p:PublishReadyToRun=true"]);
        }

        var clock = Stopwatch.StartNew();
        var publish = await ProcessRunner.RunAsync("dotnet", arguments, TimeSpan.FromMinutes(10));
        var took = clock.Elapsed;
        output.WriteLine(publish.Output);
        publish.EnsureSuccess("dotnet publish -t:PublishContainer");

        var outDir = Path.Combine(project, "bin", "Release", framework, readyToRun ? "linux-x64" : "");
        var publishDirectory = Path.Combine(outDir, "publish");
        var image = $"{StandInImages.Registry}/it/warm-attribution:{tag}";
        (await DockerCli.RunAsync(["pull", "--quiet", image])).EnsureSuccess("docker pull");
        var imageBytes = long.Parse(await DockerCli.InspectAsync(image, "{{.Size}}"));
        var publishBytes = Directory.EnumerateFiles(publishDirectory, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        var buildMap = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "sealights-buildmap.json")))!;
        return new Build(image, publishDirectory, buildMap, took, publishBytes, imageBytes, publish.Output);
    }

    private sealed record Build(string Image, string PublishDirectory, JsonNode BuildMap, TimeSpan PublishTime, long PublishBytes, long ImageBytes, string Log);
}
