using System.Globalization;
using Sealights.Images.Bench;
using Sealights.Images.Testing;

// The sample function under the emulator in several configurations, measured in the same run and
// interleaved (the order reversed every other round) so machine noise hits all alike:
//   off    the stand-in base image, no agent at all
//   inert  the coverage-ready image without a token (agent registered, nothing configured)
//   on     the coverage-ready image with a token and a build session: EventPipe sessions,
//          rotation, footprints delivered to the stand-in backend (tests/Sealights.TestBackend,
//          a real process on loopback), flushed after a response at most every 10 s (the default)
//   on/every  the same, flushed and sent after every response (SL_FLUSH_INTERVAL_SECONDS=0)
//   on/tls the same as "on" over HTTPS: a second backend serving TLS with a certificate from a CA
//          made for this run, trusted by a derived image (the CA added as on Amazon Linux 2023)
//   inert/probes, on/probes  the function instrumented (compiled-in probes) without and with a token
// With --baseline <git-ref>, inert@<ref> and on@<ref> run the coverage image as that revision
// built it, for a before/after comparison in one run.
// With --cpus N every container gets N CPUs (docker --cpus, a CFS quota), as Lambda gives a
// function a share of CPU by its memory size (1 vCPU at 1,769 MB): the agent's CPU use then
// shows in the function's times as it would there.
// With --variant <name>:<KEY=VALUE>[,KEY=VALUE…] (repeatable) an "on" row runs with those extra
// variables too, e.g. --variant inline:SL_JIT_NO_INLINE=false to see what one setting costs.
// With --addressing flags the emulator is started with its addresses as flags (as AWS's emulator
// needs) instead of the image's entrypoint with SL_EMULATOR_* variables; the init figure then comes
// from the INIT REPORT line when REPORT's Init Duration is AWS's emulator's placeholder.
// With --slow-backend MS an "on/slow-backend" row runs against a second stand-in backend that answers
// every request MS ms late (its --delay-ms), and the warm invocations of "on" and "on/slow-backend"
// alternate between two containers started together; a last table puts the two side by side.
// With --marker-row true an "on/marker" row runs "on" with /var/task/sealights-instrumented.json
// in the image: the exec wrapper's path for an instrumented function (no wait for the verdict).
// With --rows a,b,… only those rows run (and "off"), e.g. --rows inert,inert/probes,on/probes.
// Usage: [--cold N] [--warm M] [--baseline <git-ref>] [--cpus N] [--variant name:KEY=VALUE,…] [--probes-variant name:KEY=VALUE,…] [--addressing environment|flags] [--slow-backend MS] [--marker-row true] [--rows a,b,…]
//        stress [--starts N] [--parallel P] [--load L]
//        hotloop [--rounds N] [--repetitions M]
//        collect [--requests N] [--clients C] [--methods M]
//        report [--cold N] [--warm M] [--cpus none,1,0.5] [--out DIR] [--plots] [--accuracy false]
//        agent-frameworks [--cold N] [--cpus N]
// "stress" is its own command: many enabled cold starts beside a CPU load (ColdStartStress).
// "hotloop" too: tight application loops plain, with JitNoInline and with probes (HotLoopBench).
if (args.Length > 0 && args[0] == "stress")
{
    return await ColdStartStress.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "hotloop")
{
    return await HotLoopBench.RunAsync(args[1..]);
}

// "agent-frameworks": the agent built on net10.0 against net8.0, same run (AgentFrameworkBench).
if (args.Length > 0 && args[0] == "agent-frameworks")
{
    return await AgentFrameworkBench.RunAsync(args[1..]);
}

// "report": P1–P6 for both collection modes at several CPU settings, written to bench/results (ReportBench).
if (args.Length > 0 && args[0] == "report")
{
    return await ReportBench.RunAsync(args[1..]);
}

// "collect": sl-images collect under 8 concurrent clients on loopback (CollectorBench).
if (args.Length > 0 && args[0] == "collect")
{
    return await CollectorBench.RunAsync(args[1..]);
}

var cold = 10;
var warm = 200;
string? baseline = null;
string? cpus = null;
var addressing = EmulatorAddressing.Environment;
var variants = new List<(string Name, Dictionary<string, string> Environment)>();
var probesVariants = new List<(string Name, Dictionary<string, string> Environment)>();
int? slowBackendMs = null;
var markerRow = false;
string[]? rows = null;
for (var i = 0; i < args.Length - 1; i += 2)
{
    switch (args[i])
    {
        case "--cold": cold = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--warm": warm = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--baseline": baseline = args[i + 1]; break;
        case "--cpus": cpus = args[i + 1]; break;
        case "--slow-backend": slowBackendMs = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--marker-row": markerRow = args[i + 1] == "true"; break;
        case "--rows": rows = args[i + 1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
        case "--variant" when Variant.TryParse(args[i + 1]) is { } variant: variants.Add(variant); break;
        case "--probes-variant" when Variant.TryParse(args[i + 1]) is { } variant: probesVariants.Add(variant); break;
        case "--probes-variant": Console.Error.WriteLine($"--probes-variant {args[i + 1]}: expected name:KEY=VALUE[,KEY=VALUE…]"); return 2;
        case "--addressing" when Enum.TryParse<EmulatorAddressing>(args[i + 1], ignoreCase: true, out var parsed): addressing = parsed; break;
        case "--addressing": Console.Error.WriteLine($"--addressing {args[i + 1]}: expected environment or flags"); return 2;
        case "--variant": Console.Error.WriteLine($"--variant {args[i + 1]}: expected name:KEY=VALUE[,KEY=VALUE…]"); return 2;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

await StandInImages.EnsureBaseImagesAsync();
var plain = await StandInImages.BuildSampleAsync("net10.0");
var covered = await StandInImages.BuildSampleAsync("net10.0", await CoverageImages.BuildAsync(StandInImages.Base("10")));
var backendPort = FreePorts.Next();
var token = SealightsTokens.Create($"http://127.0.0.1:{backendPort}/api");
var records = Directory.CreateTempSubdirectory("sl-bench-backend-");
await using var backend = await TestBackendProcess.StartAsync(records.FullName, backendPort, token, "bench-execution");
var delivering = new Dictionary<string, string> { ["SL_TOKEN"] = token, ["SL_BUILD_SESSION_ID"] = "bench-bsid" };
var pki = ThrowawayPki.Create(Path.Combine(records.FullName, "pki"));
var tlsPort = FreePorts.Next();
var tlsToken = SealightsTokens.Create($"https://127.0.0.1:{tlsPort}/api");
var tlsRecords = Directory.CreateDirectory(Path.Combine(records.FullName, "tls"));
await using var tlsBackend = await TestBackendProcess.StartHttpsAsync(tlsRecords.FullName, tlsPort, pki.Valid(), tlsToken, "bench-execution");
var trusted = await TrustedCaImage.BuildAsync(covered, pki.CaCertificateFile);
var configurations = new List<Configuration> { new("off", plain, new Dictionary<string, string>()) };
if (baseline is not null)
{
    var before = await StandInImages.BuildSampleAsync("net10.0", await BaselineCoverageImage.BuildAsync(baseline, StandInImages.Base("10")));
    configurations.Add(new Configuration($"inert@{baseline}", before, new Dictionary<string, string>()));
    configurations.Add(new Configuration($"on@{baseline}", before, delivering));
}
configurations.Add(new Configuration("inert", covered, new Dictionary<string, string>()));
configurations.Add(new Configuration("on", covered, delivering));
configurations.Add(new Configuration("on/every", covered, new Dictionary<string, string>(delivering) { ["SL_FLUSH_INTERVAL_SECONDS"] = "0" }));
configurations.Add(new Configuration("on/tls", trusted, new Dictionary<string, string>(delivering) { ["SL_TOKEN"] = tlsToken }));
// The same function instrumented (compiled-in probes): without a token (what the probes alone
// cost) and with one (probe mode: no runtime events, a harvest after every response).
var probed = await StandInImages.BuildInstrumentedSampleAsync("net10.0", await CoverageImages.BuildAsync(StandInImages.Base("10")));
configurations.Add(new Configuration("inert/probes", probed, new Dictionary<string, string>()));
configurations.Add(new Configuration("on/probes", probed, delivering));
if (baseline is not null)
{
    // The instrumented function on the baseline revision's coverage image (the instrumentation itself is this revision's).
    var probedBefore = await StandInImages.BuildInstrumentedSampleAsync("net10.0", await BaselineCoverageImage.BuildAsync(baseline, StandInImages.Base("10")));
    configurations.Add(new Configuration($"inert/probes@{baseline}", probedBefore, new Dictionary<string, string>()));
    configurations.Add(new Configuration($"on/probes@{baseline}", probedBefore, delivering));
}
if (markerRow)
{
    // "on" with the instrumented marker file: the exec wrapper then starts the runtime without
    // waiting for the agent's verdict; the agent itself runs as for "on".
    var marked = await ImageBuilder.BuildAsync(covered, [new ImageFile("/var/task/sealights-instrumented.json", "{}")]);
    configurations.Add(new Configuration("on/marker", marked, delivering));
}
TestBackendProcess? slowBackend = null;
Configuration? slow = null;
if (slowBackendMs is { } delayMs)
{
    var slowPort = FreePorts.Next();
    var slowToken = SealightsTokens.Create($"http://127.0.0.1:{slowPort}/api");
    slowBackend = await TestBackendProcess.StartAsync(Directory.CreateDirectory(Path.Combine(records.FullName, "slow")).FullName, slowPort, slowToken, "bench-execution");
    await slowBackend.SetDelayAsync(TimeSpan.FromMilliseconds(delayMs));
    slow = new Configuration("on/slow-backend", covered, new Dictionary<string, string> { ["SL_TOKEN"] = slowToken, ["SL_BUILD_SESSION_ID"] = "bench-bsid" });
    configurations.Add(slow);
}
// The delivering configuration with a variant's variables laid over it.
Dictionary<string, string> Delivering(Dictionary<string, string> variant)
{
    var merged = new Dictionary<string, string>(delivering);
    foreach (var (key, value) in variant)
    {
        merged[key] = value;
    }
    return merged;
}
foreach (var (name, environment) in probesVariants)
{
    // The instrumented function with these variables too: without a token (what they cost the
    // probes alone) and with one.
    configurations.Add(new Configuration($"inert/probes/{name}", probed, new Dictionary<string, string>(environment)));
    configurations.Add(new Configuration($"on/probes/{name}", probed, Delivering(environment)));
}
foreach (var (name, environment) in variants)
{
    configurations.Add(new Configuration($"on/{name}", covered, Delivering(environment)));
}
if (rows is not null)
{
    // Only the rows asked for ("off" always stays: every difference is taken against it; with a
    // slow backend, "on" and its slow twin stay too).
    configurations.RemoveAll(c => c.Name != "off" && !rows.Contains(c.Name) && (slow is null || (c != slow && c.Name != "on")));
}
string[] runArguments = Rounds.RunArguments(cpus);
const string Payload = Rounds.Payload;

await Rounds.ColdAsync(configurations, cold, runArguments, addressing);

// With a slow backend, "on" and "on/slow-backend" take turns invoke by invoke (two containers at once).
var fastOn = configurations.SingleOrDefault(c => c.Name == "on");
if (slow is not null && fastOn is not null)
{
    await using var fastContainer = await LambdaContainer.StartAsync(fastOn.Image, fastOn.Environment, runArguments, addressing: addressing);
    await using var slowContainer = await LambdaContainer.StartAsync(slow.Image, slow.Environment, runArguments, addressing: addressing);
    await fastContainer.InvokeAsync(Payload);
    await slowContainer.InvokeAsync(Payload);
    // Steady state first: the slow agent's start calls take several of its backend's delays, and
    // only then do its footprints flow; invoke both every 500 ms until the slow backend has footprints (≤ 60 s).
    var settling = System.Diagnostics.Stopwatch.StartNew();
    var warmups = 0;
    while (slowBackend!.FootprintsRecords().Count == 0 && settling.Elapsed < TimeSpan.FromSeconds(60))
    {
        await fastContainer.InvokeAsync(Payload);
        await slowContainer.InvokeAsync(Payload);
        warmups++;
        await Task.Delay(500);
    }
    Console.WriteLine($"slow backend: first footprints after {settling.Elapsed.TotalSeconds:0.0} s ({warmups} warm-up invocations each, not measured)");
    var measuring = System.Diagnostics.Stopwatch.StartNew();
    for (var i = 0; i < warm; i++)
    {
        foreach (var (configuration, container) in i % 2 == 0 ? [(fastOn, fastContainer), (slow, slowContainer)] : new[] { (slow, slowContainer), (fastOn, fastContainer) })
        {
            configuration.WarmLatencyMs.Add((await container.InvokeAsync(Payload)).Latency.TotalMilliseconds);
        }
    }
    Console.WriteLine($"warm phase of on and on/slow-backend: {measuring.Elapsed.TotalSeconds:0.0} s for {warm} invocations each");
    foreach (var (configuration, container) in new[] { (fastOn, fastContainer), (slow, slowContainer) })
    {
        var logs = await container.WaitForLogAsync(l => ReportLine.ParseAll(l).Count >= warm + 1 + warmups, TimeSpan.FromSeconds(30));
        await container.StopAsync();
        foreach (var report in ReportLine.ParseAll(logs).Skip(1 + warmups))
        {
            configuration.WarmDurationMs.Add(report.DurationMs);
            if (report.PostRuntimeExtensionsDurationMs is { } postRuntime)
            {
                configuration.PostRuntimeMs.Add(postRuntime);
            }
        }
    }
}

await Rounds.WarmAsync(configurations.Where(c => slow is null || (c != slow && c != fastOn)), warm, runArguments, addressing);

static string Ms(double value) => double.IsNaN(value) ? "-" : value.ToString("0.00", CultureInfo.InvariantCulture);
static string Whole(double value) => double.IsNaN(value) ? "-" : value.ToString("0", CultureInfo.InvariantCulture);
var width = Math.Max(6, configurations.Max(c => c.Name.Length));
Console.WriteLine(
    $"sample function (net10.0) under the emulator: {cold} cold starts per configuration (interleaved), {warm} warm invocations each; "
    + (cpus is null ? "containers not CPU-limited" : $"{cpus} CPUs per container"));
Console.WriteLine(
    $"{"".PadRight(width)} {"init p50",9} {"init p25",9} {"init max",9} {"cold call",10} {"cold CPU",9} {"mem MB",7} {"warm p50",9} {"warm p99",9} {"dur p50",8} "
    + $"{"post-rt p50",12} {"agent ready",12} {"agent RSS",10} {"events",7} {"KB",6} {"methods",8}");
foreach (var c in configurations)
{
    Console.WriteLine(
        $"{c.Name.PadRight(width)} {Ms(Statistics.Median(c.InitMs)),9} {Ms(Statistics.Percentile(c.InitMs, 25)),9} {Ms(c.InitMs.Max()),9} "
        + $"{Ms(Statistics.Median(c.ColdLatencyMs)),10} {Whole(Statistics.Median(c.ColdCpuMs)),9} {Whole(Statistics.Median(c.MemoryMb)),7} "
        + $"{Ms(Statistics.Percentile(c.WarmLatencyMs, 50)),9} {Ms(Statistics.Percentile(c.WarmLatencyMs, 99)),9} {Ms(Statistics.Median(c.WarmDurationMs)),8} "
        + $"{Ms(Statistics.Median(c.PostRuntimeMs)),12} {Ms(Statistics.Median(c.AgentReadyMs)),12} {Ms(Statistics.Median(c.AgentRssMb)),10} "
        + $"{Whole(Statistics.Median(c.Events)),7} {Whole(Statistics.Median(c.Kilobytes)),6} {Whole(Statistics.Median(c.Methods)),8}");
}
var off = configurations[0];
foreach (var c in configurations.Skip(1))
{
    Console.WriteLine(
        $"{c.Name} vs off: init overhead median {Ms(Statistics.Median(c.InitMs) - Statistics.Median(off.InitMs))} ms "
        + $"(ratio {Statistics.Median(c.InitMs) / Statistics.Median(off.InitMs):0.00}; median of the {c.InitMs.Count} same-round differences {Ms(Statistics.MedianOfDifferences(c.InitMs, off.InitMs))} ms), "
        + $"cold CPU +{Whole(Statistics.Median(c.ColdCpuMs) - Statistics.Median(off.ColdCpuMs))} ms; "
        + $"warm caller latency delta p50 {Ms(Statistics.Percentile(c.WarmLatencyMs, 50) - Statistics.Percentile(off.WarmLatencyMs, 50))} ms, "
        + $"p99 {Ms(Statistics.Percentile(c.WarmLatencyMs, 99) - Statistics.Percentile(off.WarmLatencyMs, 99))} ms; "
        + $"post-runtime per warm invoke p50 {Ms(Statistics.Median(c.PostRuntimeMs))} ms, p90 {Ms(Statistics.Percentile(c.PostRuntimeMs, 90))} ms, "
        + $"p99 {Ms(Statistics.Percentile(c.PostRuntimeMs, 99))} ms, mean {Ms(c.PostRuntimeMs.DefaultIfEmpty(double.NaN).Average())} ms, "
        + $"max {Ms(c.PostRuntimeMs.DefaultIfEmpty(double.NaN).Max())} ms, {c.PostRuntimeMs.Count(p => p > 0)} of {c.PostRuntimeMs.Count} with post-runtime work"
        + (AgentFigures.PerWarmInvocation(c, warm) is { } perWarm ? $"; agent CPU per warm invocation {perWarm:0.000} ms (its life: cold {Ms(Statistics.Median(c.AgentCpuMs))} ms, warm container {Ms(Statistics.Median(c.WarmAgentCpuMs))} ms)" : ""));
}
// The warm tail: which invocations were slowest, and how much of each was the previous
// invocation's post-runtime work (the emulator dispatches an invoke only once every extension is
// back in next). With fewer than 100 warm invocations the p99 is the slowest of them.
foreach (var c in configurations.Where(c => c.WarmLatencyMs.Count > 0))
{
    var slowest = c.WarmLatencyMs.Select((latency, index) => (latency, index)).OrderByDescending(w => w.latency).Take(3)
        .Select(w => $"#{w.index + 1} {Ms(w.latency)} ms (post-rt before it {Ms(w.index < c.PostRuntimeInOrder.Count ? c.PostRuntimeInOrder[w.index] : double.NaN)} ms)");
    Console.WriteLine($"{c.Name} warm tail: cold invocation's post-rt {Ms(Statistics.Median(c.ColdPostRuntimeMs))} ms (median of the cold starts); slowest warm: {string.Join(", ", slowest)}");
}
if (slow is not null && fastOn is not null)
{
    static string Ratio(double a, double b) => (a / b).ToString("0.00", CultureInfo.InvariantCulture);
    Console.WriteLine($"fast vs slow backend (every request answered {slowBackendMs} ms late), same run, interleaved:");
    Console.WriteLine($"{"",-16} {"fast",9} {"slow",9} {"slow/fast",10}");
    foreach (var (row, fast, late) in new (string, double, double)[]
    {
        ("init p50", Statistics.Median(fastOn.InitMs), Statistics.Median(slow.InitMs)),
        ("init p25", Statistics.Percentile(fastOn.InitMs, 25), Statistics.Percentile(slow.InitMs, 25)),
        ("cold call p50", Statistics.Median(fastOn.ColdLatencyMs), Statistics.Median(slow.ColdLatencyMs)),
        ("warm p50", Statistics.Percentile(fastOn.WarmLatencyMs, 50), Statistics.Percentile(slow.WarmLatencyMs, 50)),
        ("warm p90", Statistics.Percentile(fastOn.WarmLatencyMs, 90), Statistics.Percentile(slow.WarmLatencyMs, 90)),
        ("warm p99", Statistics.Percentile(fastOn.WarmLatencyMs, 99), Statistics.Percentile(slow.WarmLatencyMs, 99)),
        ("post-rt p50", Statistics.Median(fastOn.PostRuntimeMs), Statistics.Median(slow.PostRuntimeMs)),
        ("post-rt p99", Statistics.Percentile(fastOn.PostRuntimeMs, 99), Statistics.Percentile(slow.PostRuntimeMs, 99)),
    })
    {
        Console.WriteLine($"{row,-16} {Ms(fast),9} {Ms(late),9} {Ratio(late, fast),10}");
    }
    Console.WriteLine(
        $"init slow - fast: median of the {slow.InitMs.Count} same-round differences {Ms(Statistics.MedianOfDifferences(slow.InitMs, fastOn.InitMs))} ms; "
        + $"warm slow - fast: median of the {slow.WarmLatencyMs.Count} same-turn differences {Ms(Statistics.MedianOfDifferences(slow.WarmLatencyMs, fastOn.WarmLatencyMs))} ms");
    var slowStats = await slowBackend!.StatsAsync();
    Console.WriteLine($"slow backend: {slowBackend.FootprintsRecords().Count} footprints requests accepted, {slowBackend.AgentEvents().Count} agent events; {slowStats.ToJsonString()}");
    await slowBackend.DisposeAsync();
}
var stats = await backend.StatsAsync();
Console.WriteLine($"backend: {backend.FootprintsRecords().Count} footprints requests accepted, {backend.DeliveredMethods().Count} method hits delivered; {stats.ToJsonString()}");
Console.WriteLine($"https backend: {tlsBackend.FootprintsRecords().Count} footprints requests accepted, {tlsBackend.DeliveredMethods().Count} method hits delivered; {(await tlsBackend.StatsAsync()).ToJsonString()}");
await backend.StopAsync();
await tlsBackend.StopAsync();
records.Delete(recursive: true);
return 0;

/// <summary>A <c>--variant name:KEY=VALUE[,KEY=VALUE…]</c> argument.</summary>
internal static class Variant
{
    public static (string Name, Dictionary<string, string> Environment)? TryParse(string argument)
    {
        var colon = argument.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return null;
        }
        var environment = new Dictionary<string, string>();
        foreach (var pair in argument[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                return null;
            }
            environment[pair[..equals]] = pair[(equals + 1)..];
        }
        return environment.Count == 0 ? null : (argument[..colon], environment);
    }
}

