using System.Text.RegularExpressions;
using Sealights.Images.IntegrationTests.Infrastructure;
using Sealights.Images.Testing;
using Xunit.Abstractions;
using static Sealights.Images.Testing.SampleCalls;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// Probe mode through the whole agent: the sample function instrumented (the real instrumenter),
/// in the coverage-ready image under the emulator, delivering to the stand-in backend. One warm
/// environment serves A, B, A, C, B; the function harvests every invocation at its end.
/// </summary>
[Collection(CoverageCollection.Name)]
public sealed partial class ProbeModeEndToEndTests(CoverageFixture images, ITestOutputHelper output) : IDisposable
{
    private const string Bsid = "bsid-probes";
    private const string Lab = "lab-probes";
    private const string Execution = "execution-probes";

    private readonly ScenarioScratch _scratch = new("sl-probes-");

    private string Token => field ??= SealightsTokens.Create($"http://127.0.0.1:{_scratch.BackendPort}/api");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task A_warm_environment_reports_every_method_of_every_invocation_in_its_own_entry()
    {
        var image = await StandInImages.BuildInstrumentedSampleAsync("net10.0", images.CoverageImage);
        var backend = await TestBackendProcess.StartAsync(_scratch.Directory, _scratch.BackendPort, Token, Execution, output.WriteLine);
        _scratch.Own(backend);
        await backend.StatsAsync();
        var container = await LambdaContainer.StartAsync(
            image,
            new Dictionary<string, string>
            {
                ["SL_TOKEN"] = Token,
                ["SL_BUILD_SESSION_ID"] = Bsid,
                ["SL_LAB_ID"] = Lab,
                ["SL_LOG_LEVEL"] = "debug",
                ["SL_RETRY_MIN_MS"] = "100",
                ["SL_RETRY_MAX_MS"] = "1000",
            },
            ["--volume", $"{_scratch.Directory}:/sl-out"]);
        _scratch.Own(container);

        var windows = new List<(string Payload, DateTimeOffset Before, DateTimeOffset After)>();
        foreach (var (name, payload) in new[] { ("A", Echo), ("B", Quote), ("A", Echo), ("C", Info), ("B", Quote) })
        {
            var before = DateTimeOffset.UtcNow;
            Assert.Equal(200, (await container.InvokeAsync(payload, TimeSpan.FromSeconds(20))).StatusCode);
            windows.Add((name, before, DateTimeOffset.UtcNow));
            if (windows.Count == 1)
            {
                // The first flush after a response is a send opportunity: this invocation's batch is
                // spooled before the send, so it is at the backend before the next invocation.
                var deadline = DateTimeOffset.UtcNow.AddSeconds(5);
                while (!backend.DeliveredHits().Any(h => h.Methods.Contains(EchoMethod)) && DateTimeOffset.UtcNow < deadline)
                {
                    await Task.Delay(50);
                }
                Assert.Contains(backend.DeliveredHits(), h => h.Methods.Contains(EchoMethod));
            }
        }

        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Contains("application assemblies SampleFunction.dll: probes", logs);
        Assert.Contains("collecting method hits from its probes", logs);
        // One batch per flush, one flush per invocation, sent oldest first: delivery order is invocation order.
        var entries = backend.DeliveredHits().Where(h => h.Methods.Count > 0).ToList();
        foreach (var entry in entries)
        {
            output.WriteLine($"{entry.Start:HH:mm:ss}-{entry.End:HH:mm:ss} init={entry.Init} final={entry.Final}: {string.Join(", ", entry.Methods.Order())}");
        }

        Assert.Equal(windows.Count, entries.Count);
        for (var i = 0; i < windows.Count; i++)
        {
            // From its INVOKE to the harvest right after its response, in whole seconds on the wire
            // (start rounded down, end up), not init, not final.
            Assert.InRange(entries[i].Start, windows[i].Before.AddSeconds(-1), windows[i].After);
            Assert.InRange(entries[i].End, windows[i].Before, windows[i].After.AddSeconds(2));
            if (i + 1 < windows.Count)
            {
                Assert.True(entries[i].End <= windows[i + 1].Before.AddSeconds(1), $"entry {i} ends in the next invocation");
            }
            Assert.False(entries[i].Init || entries[i].Final);
        }

        var sets = entries.Select(e => e.Methods.ToHashSet(StringComparer.Ordinal)).ToList();
        // Warm invocations report everything they ran, again: the second A and the second B report
        // what the first did, less what only ever runs once in a process (init in the cold first A,
        // static constructors and first-use paths in the first B).
        Assert.Superset(sets[2], sets[0]);
        Assert.Superset(sets[4], sets[1]);
        output.WriteLine("only in the first A: " + string.Join(", ", sets[0].Except(sets[2]).Order()));
        output.WriteLine("only in the first B: " + string.Join(", ", sets[1].Except(sets[4]).Order()));
        // Once per process: static constructors, and the source-generated JSON context's type metadata, built at first use and cached.
        Assert.All(sets[1].Except(sets[4]), id => Assert.True(
            id.EndsWith("|.cctor()", StringComparison.Ordinal) || id.StartsWith("SampleFunction|SampleFunction.SampleJsonContext|", StringComparison.Ordinal),
            $"{id} ran in the first B only"));
        Assert.Contains("SampleFunction|SampleFunction.Function|Info()", sets[3]);
        Assert.Contains(EchoMethod, sets[2]);
        Assert.DoesNotContain(PriceMethod, sets[2]);
        Assert.Contains(PriceMethod, sets[4]);
        Assert.DoesNotContain(EchoMethod, sets[4]);
        Assert.DoesNotContain(EchoMethod, sets[3]);
        Assert.DoesNotContain(PriceMethod, sets[3]);

        // The function harvests each invocation at its end by itself: the agent neither flushes nor
        // holds next for it, but at a send opportunity (the first invocation here).
        Assert.Contains("the function harvests each invocation's hits at its end", logs);
        var postRuntime = PostRuntime().Matches(logs).Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        output.WriteLine($"post-runtime per invocation (ms, REPORT): {string.Join(" ", postRuntime)}");
        Console.WriteLine($"probe mode post-runtime per invocation (REPORT, ms): {string.Join(" ", postRuntime)}; the first is a send opportunity");
        Assert.Equal(5, postRuntime.Count);
        // No exec wrapper holds the SIGTERM in probe mode: the library's SIGTERM handler harvests
        // once more and lets the runtime's EventPipe writer pass; the agent reads that last harvest
        // before the stream ends, so neither a cut stream nor a flush of its own at SHUTDOWN.
        Assert.DoesNotContain("went away mid-session", logs);
        Assert.DoesNotContain("a probe flush could not be started", logs);
        Assert.DoesNotContain("the runtime still ran", logs);
        Assert.DoesNotContain(Token, logs);
        // Invocations 2-5 and the exit, each harvest as one datagram to the agent's socket (Probes
        // README, "Harvest datagrams"), none through the standing session's EventPipe writer.
        var datagrams = HarvestDatagrams().Match(logs);
        Assert.True(datagrams.Success, "the SHUTDOWN line names no harvest datagrams");
        Assert.Equal(5, int.Parse(datagrams.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"events lost, (\d+) harvest datagrams")]
    private static partial System.Text.RegularExpressions.Regex HarvestDatagrams();

    [GeneratedRegex(@"Post-Runtime Extensions Duration: ([0-9.]+) ms")]
    private static partial Regex PostRuntime();
}
