using System.Diagnostics;
using Microsoft.Diagnostics.NETCore.Client;
using Sealights.Lambda.Agent.Diagnostics;
using Sealights.Lambda.Agent.MethodHits;
using Sealights.Lambda.Agent.Tests.Infrastructure;
using Sealights.Tests.Shared;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Tests;

/// <summary>
/// Probe mode against real runtimes: the hand-probed fixture (the instrumenter's pattern written
/// in C#) in a real dotnet process, flushed over real EventPipe sessions by the agent's collector
/// or by the agent's flush session and reader directly.
/// </summary>
public sealed class ProbeModeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan FlushBudget = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task WarmProcess_EachFlushHasExactlyWhatItsScenarioRan()
    {
        var assembly = ProbedFixture.Assembly;
        var expected = new Dictionary<string, string[]>
        {
            ["a"] = [ProbedFixture.Id("PathA|Run()"), ProbedFixture.Id("PathA|Helper(System.Int32)"), ProbedFixture.Id("Shared|Greet(System.String)"), ProbedFixture.Id("Shared|Count(System.String)")],
            ["b"] = [ProbedFixture.Id("PathB|Run()"), ProbedFixture.Id("PathB|.ctor(System.Int32)"), ProbedFixture.Id("PathB|Square()"), ProbedFixture.Id("Shared|Greet(System.String)")],
            ["c"] = [ProbedFixture.Id("PathC|Run()"), ProbedFixture.Id("Shared|Count(System.String)")],
        };
        await using var connected = await ConnectedFixture.StartAsync(output, assembly, "register", noInline: false);
        var (scope, fixture) = (connected.Scope, connected.Process);
        Assert.True(scope.Collector.FlushesCheaply, "every application assembly is probed: no runtime events, a flush is a harvest");

        foreach (var scenario in new[] { "a", "b", "a", "c", "b" })
        {
            var invoked = DateTimeOffset.UtcNow;
            scope.Collector.MarkInvoked(invoked);
            await fixture.RunAsync(scenario);
            using var budget = new CancellationTokenSource(FlushBudget);
            var hits = await scope.Collector.FlushAsync(budget.Token);
            var ids = hits.Select(h => h.Method.Id).Order(StringComparer.Ordinal).ToList();
            output.WriteLine($"{scenario}: {string.Join(", ", ids)}");
            Assert.Equal(expected[scenario].Order(StringComparer.Ordinal), ids);
            // Dated by the invocation: from its INVOKE to the harvest.
            Assert.All(hits, h => Assert.Equal(invoked, h.FirstSeen));
            Assert.All(hits, h => Assert.InRange(h.LastSeen!.Value, invoked, DateTimeOffset.UtcNow));
        }

        var statistics = scope.Collector.Statistics;
        Assert.Equal(5, statistics.ProbeFlushes);
        Assert.Equal(0, statistics.ProbeHitsDropped);
        Assert.Equal(0, statistics.EventsLost);
        Assert.Contains(scope.LogLines, l => l.Contains("Sealights.Lambda.Agent.Tests.ProbedFixture.dll: probes", StringComparison.Ordinal));
        Assert.Contains(scope.LogLines, l => l.Contains("collecting method hits from its probes", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FirstFlush_BeforeTheRuntimesConnectionIsAccepted_WaitsForItAndHarvests()
    {
        // As when the agent, starved of CPU, has not yet accepted the connection of a runtime that
        // started and answered its first invocation: the first flush is asked for before the
        // collector has the runtime. It must wait for it (once), not report nothing and leave the
        // invocation's hits to be reported with the next one.
        var assembly = ProbedFixture.Assembly;
        await using var scope = await CollectorScope.StartAsync(output, assembly);
        await using var fixture = FixtureProcess.Start(assembly, "register", scope.Collector.RuntimePortSetting, noInline: false);
        Assert.False(scope.Collector.IsRuntimeConnected, "the runtime connected before the flush was asked for: nothing tested");

        using var budget = new CancellationTokenSource(FlushBudget);
        await scope.Collector.FlushAsync(budget.Token);

        // The flush ended with the runtime in hand (it harvested whatever had run by then).
        Assert.True(scope.Collector.IsRuntimeConnected, "the first flush returned before the runtime's connection was taken");
        Assert.Equal(1, scope.Collector.Statistics.RuntimesConnected);
        await fixture.WaitForLineAsync("ready");

        // And the next flush is the invocation's alone.
        scope.Collector.MarkInvoked(DateTimeOffset.UtcNow);
        await fixture.RunAsync("c");
        var hits = await scope.Collector.FlushAsync(budget.Token);
        Assert.Equal(
            new[] { ProbedFixture.Id("PathC|Run()"), ProbedFixture.Id("Shared|Count(System.String)") }.Order(StringComparer.Ordinal),
            hits.Select(h => h.Method.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AtSigterm_BeforeAnyFlush_TheExitWaitsForTheAgentsFlush()
    {
        // A quick stop after a first invocation: the agent's first flush (no session listened until
        // then) comes just after the runtime's SIGTERM. The runtime must still answer it.
        var assembly = ProbedFixture.Assembly;
        await using var connected = await ConnectedFixture.StartAsync(output, assembly, "register", noInline: false);
        var (scope, fixture) = (connected.Scope, connected.Process);
        await fixture.RunAsync("a");

        await fixture.SignalTerminateAsync();
        using var budget = new CancellationTokenSource(FlushBudget);
        var hits = await scope.Collector.FlushAsync(budget.Token);

        Assert.Equal(
            new[] { ProbedFixture.Id("PathA|Run()"), ProbedFixture.Id("PathA|Helper(System.Int32)"), ProbedFixture.Id("Shared|Greet(System.String)"), ProbedFixture.Id("Shared|Count(System.String)") }.Order(StringComparer.Ordinal),
            hits.Select(h => h.Method.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AtSigterm_TheLibraryHarvestsWhatRanAfterTheLastInvocation_BeforeTheRuntimeExits()
    {
        var assembly = ProbedFixture.Assembly;
        await using var scope = await CollectorScope.StartAsync(output, assembly);
        var harvests = new List<string[]>();
        var exitHarvest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        scope.Collector.InvocationHarvested = hits =>
        {
            lock (harvests)
            {
                harvests.Add(hits.Select(h => h.Method.Id).Order(StringComparer.Ordinal).ToArray());
            }
            exitHarvest.TrySetResult();
        };
        await using var fixture = await StartHarvestingAtBoundariesAsync(scope, assembly);

        // Ran after the last invocation's end (no request for the next one follows): only the
        // library's harvest at SIGTERM reports it, and only if it leaves before the process dies.
        await fixture.RunAsync("c");
        Assert.Equal(143, await fixture.TerminateAsync());
        await exitHarvest.Task.WaitAsync(FixtureProcess.Timeout);
        await scope.WaitForRuntimeGoneAsync();

        var only = Assert.Single(harvests);
        Assert.Equal([ProbedFixture.Id("PathC|Run()"), ProbedFixture.Id("Shared|Count(System.String)")], only);
        Assert.DoesNotContain(scope.LogLines, l => l.Contains("went away mid-session", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AHarvestBeforeItsInvokeWasSeen_IsDatedAtItsEnd_NotFromThePreviousHarvest()
    {
        // The agent, at low priority, may take an INVOKE only after the function has answered it
        // and its harvest came in: dated from the previous harvest, its hits would cover the idle
        // time between the invocations too (and the tests that ran in it).
        var assembly = ProbedFixture.Assembly;
        await using var scope = await CollectorScope.StartAsync(output, assembly);
        var harvests = System.Threading.Channels.Channel.CreateUnbounded<IReadOnlyList<MethodHit>>();
        scope.Collector.InvocationHarvested = hits => harvests.Writer.TryWrite(hits);
        await using var fixture = await StartHarvestingAtBoundariesAsync(scope, assembly);
        async Task<IReadOnlyList<MethodHit>> NextHarvest() => await harvests.Reader.ReadAsync().AsTask().WaitAsync(FixtureProcess.Timeout);
        IEnumerable<string> Ids(IReadOnlyList<MethodHit> hits) => hits.Select(h => h.Method.Id).Order(StringComparer.Ordinal);

        // Seen in time: from its INVOKE to its end.
        var invoked = DateTimeOffset.UtcNow;
        scope.Collector.MarkInvoked(invoked, "request-1");
        await fixture.RunAsync("c");
        await fixture.RunAsync("end request-1");
        var first = await NextHarvest();
        Assert.Equal(new[] { ProbedFixture.Id("PathC|Run()"), ProbedFixture.Id("Shared|Count(System.String)") }.Order(StringComparer.Ordinal), Ids(first));
        Assert.All(first, h => Assert.Equal(invoked, h.FirstSeen));
        var firstEnd = first[0].LastSeen!.Value;

        // An idle gap, then an invocation whose INVOKE comes only after its harvest.
        await Task.Delay(500);
        await fixture.RunAsync("c");
        await fixture.RunAsync("end request-2");
        var second = await NextHarvest();
        Assert.Equal(Ids(first), Ids(second));
        var secondEnd = second[0].LastSeen!.Value;
        Assert.True(secondEnd - firstEnd >= TimeSpan.FromMilliseconds(400), $"harvests {firstEnd:HH:mm:ss.fff} and {secondEnd:HH:mm:ss.fff}: not the gap made");
        Assert.All(second, h => Assert.Equal(secondEnd, h.FirstSeen));

        // Its INVOKE, taken now, began nothing since: a flush of the agent's dates what ran after that harvest from it.
        scope.Collector.MarkInvoked(DateTimeOffset.UtcNow, "request-2");
        await fixture.RunAsync("a");
        using var budget = new CancellationTokenSource(FlushBudget);
        var flushed = await scope.Collector.FlushAsync(budget.Token);
        Assert.NotEmpty(flushed);
        Assert.All(flushed, h => Assert.Equal(secondEnd, h.FirstSeen));
    }

    /// <summary>
    /// The fixture with <c>AWS_LAMBDA_RUNTIME_API</c> at a closed port (the boundary watches request
    /// starts; nothing needs to answer), through its first invocation as the agent takes it: its own
    /// flush after it, then the library asked to harvest by itself.
    /// </summary>
    private static async Task<FixtureProcess> StartHarvestingAtBoundariesAsync(CollectorScope scope, string assembly)
    {
        var fixture = FixtureProcess.Start(assembly, "register", scope.Collector.RuntimePortSetting, noInline: false,
            environment: new Dictionary<string, string> { ["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:9" });
        try
        {
            await fixture.WaitForLineAsync("ready");
            await scope.WaitForRuntimeAsync();
            scope.Collector.MarkInvoked(DateTimeOffset.UtcNow);
            await fixture.RunAsync("a");
            using var budget = new CancellationTokenSource(FlushBudget);
            await scope.Collector.FlushAsync(budget.Token);
            await scope.Collector.HarvestAtBoundariesFromNowOnAsync();
            Assert.True(scope.Collector.HarvestsAtBoundaries, "the library said it harvests at invocation ends");
            return fixture;
        }
        catch
        {
            await fixture.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task ThreeHundredFlushesOfOneProcess_AreAllAnsweredExactly()
    {
        // Flush sessions are closed, not stopped (a stop holds the diagnostic server ~100 ms); the
        // runtime allows 64 sessions at once, so a session that outlived its flush would make the
        // 64th flush fail. A warm Lambda environment serves thousands of invocations.
        const int Flushes = 300;
        var assembly = ProbedFixture.Assembly;
        string[] expectedA = [ProbedFixture.Id("PathA|Run()"), ProbedFixture.Id("PathA|Helper(System.Int32)"), ProbedFixture.Id("Shared|Greet(System.String)"), ProbedFixture.Id("Shared|Count(System.String)")];
        string[] expectedC = [ProbedFixture.Id("PathC|Run()"), ProbedFixture.Id("Shared|Count(System.String)")];
        await using var connected = await ConnectedFixture.StartAsync(output, assembly, "register", noInline: false);
        var (scope, fixture) = (connected.Scope, connected.Process);

        var clock = Stopwatch.StartNew();
        for (var flush = 0; flush < Flushes; flush++)
        {
            var scenario = flush % 2 == 0 ? "a" : "c";
            scope.Collector.MarkInvoked(DateTimeOffset.UtcNow);
            await fixture.RunAsync(scenario);
            using var budget = new CancellationTokenSource(FlushBudget);
            var hits = await scope.Collector.FlushAsync(budget.Token);
            var ids = hits.Select(h => h.Method.Id).Order(StringComparer.Ordinal).ToList();
            Assert.True(
                (scenario == "a" ? expectedA : expectedC).Order(StringComparer.Ordinal).SequenceEqual(ids),
                $"flush {flush + 1} ({scenario}): {string.Join(", ", ids)}");
        }

        var statistics = scope.Collector.Statistics;
        scope.Print($"{Flushes} flushes of one process in {clock.Elapsed.TotalSeconds:0.0} s, {statistics.SessionsStarted} sessions started, {statistics.EventsLost} events lost");
        Assert.Equal(Flushes, statistics.ProbeFlushes);
        Assert.Equal(0, statistics.EventsLost);
    }

    [Fact]
    public async Task AnAssemblyWithoutTheMarker_KeepsTheFirstExecutionPath()
    {
        // A manifest beside a plain build: the file, not the manifest, decides.
        var assembly = ProbedFixture.PlainAssembly;
        await using var connected = await ConnectedFixture.StartAsync(output, assembly, "idle", noInline: true);
        var (scope, fixture) = (connected.Scope, connected.Process);
        Assert.False(scope.Collector.FlushesCheaply);

        await fixture.RunAsync("c");
        using var budget = new CancellationTokenSource(FlushBudget);
        var hits = await scope.Collector.FlushAsync(budget.Token);

        // First executions from the JIT events (its probes write into an array nobody flushes).
        Assert.Contains(ProbedFixture.Id("PathC|Run()"), hits.Select(h => h.Method.Id));
        Assert.All(hits, h => Assert.Null(h.LastSeen));
        Assert.Equal(0, scope.Collector.Statistics.ProbeFlushes);
        Assert.Contains(scope.LogLines, l => l.Contains("every application assembly on the first-execution path", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FlushWithNothingHit_IsAnsweredAndEmpty()
    {
        var assembly = ProbedFixture.Assembly;
        await using var connected = await ConnectedFixture.StartAsync(output, assembly, "register", noInline: false);
        var (scope, fixture) = (connected.Scope, connected.Process);
        await fixture.RunAsync("a");
        using var budget = new CancellationTokenSource(FlushBudget);
        Assert.NotEmpty(await scope.Collector.FlushAsync(budget.Token));

        await fixture.RunAsync("none");
        var nothing = await scope.Collector.FlushAsync(budget.Token);

        Assert.Empty(nothing);
        // Answered (FlushCompleted came), not merely silent.
        Assert.Equal(2, scope.Collector.Statistics.ProbeFlushes);
    }

    /// <summary>
    /// On Lambda the agent reaches the runtime only through the diagnostic port the image's
    /// entrypoint sets when coverage is on: without it (coverage off) the flush's source is not made
    /// (its thread's CPU is ~4.6 ms of the sample's cold start), and the probes still run.
    /// </summary>
    [Theory]
    [InlineData(true, false, "event source: not made (on Lambda without a diagnostic port (coverage is off for this function): no agent can read the hits)")]
    [InlineData(true, true, "event source: being made")]
    [InlineData(false, false, "event source: being made")]
    public async Task TheSourceIsMadeOnlyWhereAnAgentCanReadIt(bool onLambda, bool withPort, string expected)
    {
        var environment = new Dictionary<string, string> { ["AWS_LAMBDA_RUNTIME_API"] = onLambda ? "127.0.0.1:9" : "" };
        var port = withPort ? Path.Combine(Path.GetTempPath(), $"sl-nobody-{Guid.NewGuid():N}.sock") + ",connect,nosuspend" : null;
        await using var fixture = FixtureProcess.Start(ProbedFixture.Assembly, "register", port, noInline: false, environment: environment);

        Assert.Equal(expected, await fixture.WaitForLineStartingAsync("event source: "));
        await fixture.WaitForLineAsync("ready");
        await fixture.RunAsync("a");
        if (onLambda)
        {
            // A boundary that was never armed: the runtime client's requests pass untouched.
            await fixture.RunAsync("end req-1");
        }
        Assert.False(fixture.HasExited);
    }

    [Fact]
    public async Task ModuleOfMoreThan100kMethods_AllHit_RoundTripsThroughChunks()
    {
        const int Methods = 120_000;
        await using var fixture = FixtureProcess.Start(ProbedFixture.Assembly, "idle", runtimePortSetting: null, noInline: false);
        await fixture.WaitForLineAsync("ready");
        await fixture.RunAsync($"bulk {Methods}");

        var flush = await FlushDirectlyAsync(fixture.Id, sequence: 1);

        Assert.NotNull(flush.Reader.Completed);
        var completed = flush.Reader.Completed!.Value;
        Assert.Equal(Methods, completed.Methods);
        Assert.Equal((Methods + 14_999) / 15_000, completed.Chunks);
        Assert.Equal(completed.Chunks, flush.Reader.ChunksReceived);
        Assert.Equal(0, flush.Reader.Malformed);
        var module = Assert.Single(flush.Reader.Modules);
        Assert.Equal(ProbedFixture.AssemblyName, module.AssemblyName);
        Assert.Equal(Enumerable.Range(0, Methods), module.Indices.Order());
        output.WriteLine($"{Methods} hits in {completed.Chunks} chunks, {flush.Bytes / 1024.0:0} KB of stream");
    }

    [Fact]
    public async Task EventSourceCreatedAfterTheSessionStarted_LeavesItsHitsForTheNextFlush()
    {
        await using var fixture = FixtureProcess.Start(ProbedFixture.Assembly, "idle", runtimePortSetting: null, noInline: false);
        await fixture.WaitForLineAsync("ready");
        var client = new DiagnosticsClient(fixture.Id);
        var early = new ProbeFlushReader(1);
        using (var session = await client.StartEventPipeSessionAsync(RuntimeEventProviders.ProbeFlushSessions(1)[0], CancellationToken.None))
        {
            var reading = Task.Run(() => ProbeFlush.Read(session.EventStream, early, new TraceCounters()));
            // No module registered yet, so no source: scenario "a" registers the module, and the
            // source, made meanwhile, finds this session on. It must not harvest into it: the
            // session may be stopping, and the hits would go with it.
            await fixture.RunAsync("a");
            await fixture.RunAsync("register");
            await session.StopAsync(CancellationToken.None);
            await reading.WaitAsync(FlushBudget);
        }

        var next = await FlushDirectlyAsync(fixture.Id, sequence: 2);

        Assert.Null(early.Completed);
        Assert.Empty(early.Modules);
        Assert.NotNull(next.Reader.Completed);
        Assert.Equal(4, next.Reader.Completed!.Value.Methods);
    }

    [Fact]
    public async Task CorruptedOrTruncatedFlushStreams_NeverCrashTheReader()
    {
        await using var fixture = FixtureProcess.Start(ProbedFixture.Assembly, "idle", runtimePortSetting: null, noInline: false);
        await fixture.WaitForLineAsync("ready");
        await fixture.RunAsync("bulk 20000");
        var recorded = (await FlushDirectlyAsync(fixture.Id, sequence: 1)).Recorded;
        var random = new Random(15);
        var outcomes = new Dictionary<string, int>();
        for (var round = 0; round < 400; round++)
        {
            var damaged = (byte[])recorded.Clone();
            if (round % 2 == 0)
            {
                Array.Resize(ref damaged, random.Next(damaged.Length));
            }
            else
            {
                for (var flips = random.Next(1, 20); flips > 0; flips--)
                {
                    damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
                }
            }

            var reader = new ProbeFlushReader(1);
            var outcome = "read";
            try
            {
                ProbeFlush.Read(new MemoryStream(damaged), reader, new TraceCounters());
            }
            catch (Exception e) when (e is EndOfStreamException or InvalidDataException)
            {
                // The only two ways a damaged stream may end: the collector logs them once.
                outcome = e.GetType().Name;
            }

            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            Assert.All(reader.Modules, m => Assert.All(m.Indices, i => Assert.InRange(i, 0, m.MethodDefCount - 1)));
        }

        output.WriteLine("400 damaged streams: " + string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}")));
        Assert.True(outcomes.ContainsKey("EndOfStreamException"), "truncations must have been seen");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100_000)]
    public async Task FlushFigures(int methods)
    {
        const int Rounds = 9;
        var assembly = ProbedFixture.Assembly;
        await using var scope = await CollectorScope.StartAsync(output, assembly);
        await using var fixture = FixtureProcess.Start(assembly, "register", scope.Collector.RuntimePortSetting, noInline: false);
        var registered = await fixture.WaitForLineStartingAsync("registered in ");
        await fixture.WaitForLineAsync("ready");
        // Until the EventSource exists (it is made on a thread of its own): a flush that reaches it
        // while it is being made is left unanswered by design, which a loaded machine made happen
        // to the first round (8 of 9 answered).
        await fixture.RunAsync("register");
        await scope.WaitForRuntimeAsync();
        var untilNext = new List<double>();
        var roundTrip = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            await fixture.RunAsync($"bulk {methods}");
            var clock = Stopwatch.StartNew();
            double harvested = double.NaN;
            using var budget = new CancellationTokenSource(FlushBudget);
            await scope.Collector.FlushAsync(budget.Token, harvested: () => harvested = clock.Elapsed.TotalMilliseconds);
            untilNext.Add(harvested);
            roundTrip.Add(clock.Elapsed.TotalMilliseconds);
        }

        var statistics = scope.Collector.Statistics;
        scope.Print(
            $"probe flush of {methods} hits ({Rounds} rounds): until next can be answered median {Median(untilNext):0.0} ms (max {untilNext.Max():0.0}); "
            + $"session start to hits parsed median {Median(roundTrip):0.0} ms (max {roundTrip.Max():0.0}); {statistics.EventsLost} events lost; "
            + $"fixture: {registered} (first Register on its init thread); "
            + $"rounds until next: {string.Join(" ", untilNext.Select(v => v.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))}, "
            + $"to hits: {string.Join(" ", roundTrip.Select(v => v.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))}");
        Assert.Equal(Rounds, statistics.ProbeFlushes);
        Assert.Equal(0, statistics.EventsLost);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    /// <summary>One flush over the process's own diagnostic socket: the agent's session configuration and reader, the stream recorded too.</summary>
    private static async Task<(ProbeFlushReader Reader, byte[] Recorded, long Bytes)> FlushDirectlyAsync(int processId, int sequence)
    {
        var client = new DiagnosticsClient(processId);
        using var session = await client.StartEventPipeSessionAsync(RuntimeEventProviders.ProbeFlushSessions(sequence)[0], CancellationToken.None);
        var recording = new MemoryStream();
        var copying = session.EventStream.CopyToAsync(recording);
        await session.StopAsync(CancellationToken.None);
        await copying.WaitAsync(FlushBudget);
        var recorded = recording.ToArray();
        var reader = new ProbeFlushReader(sequence);
        ProbeFlush.Read(new MemoryStream(recorded), reader, new TraceCounters());
        return (reader, recorded, recorded.Length);
    }
}

/// <summary>
/// The agent's probe mode on what the real instrumenter (src/Sealights.Coverage.Instrumentation)
/// makes of the accuracy fixture, run WITHOUT DOTNET_JitNoInline: the inlining that hides methods
/// from the first-execution path must not hide probes.
/// </summary>
[Collection(HeavyBuilds.Name)]
public sealed class InstrumentedAccuracyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task InstrumentedJitBuild_WithInliningOn_ReportsExactlyTheCalledMethods() =>
        await AssertExactAsync("JIT", Instrument(FixtureBuilds.JitAssembly));

    [Fact]
    public async Task InstrumentedReadyToRunBuild_WithDefaultInlining_ReportsExactlyTheCalledMethods()
    {
        // The MSBuild package's order: instrument the IL, then crossgen it, here with crossgen's
        // default cross-method inlining (no JitNoInline anywhere): probes are inlined with their methods.
        await FixtureBuilds.ReadyToRunAssemblyAsync(); // restores the crossgen2 pack
        var assembly = Instrument(FixtureBuilds.JitAssembly);
        var compiled = assembly + ".r2r";
        var crossgen = new System.Diagnostics.ProcessStartInfo(Crossgen2Pack.Executable()) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in Crossgen2Pack.Arguments(assembly, compiled, Path.Combine(Path.GetDirectoryName(assembly)!, "Sealights.Coverage.Probes.dll")))
        {
            crossgen.ArgumentList.Add(argument);
        }
        using (var process = System.Diagnostics.Process.Start(crossgen)!)
        {
            var text = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, text);
        }
        File.Move(compiled, assembly, overwrite: true);
        Assert.True(ReadyToRunImages.IsReadyToRun(assembly));
        await AssertExactAsync("ReadyToRun", assembly);
    }

    private async Task AssertExactAsync(string flavor, string assembly)
    {
        var expected = ExpectedMethods.AllAndLate(assembly);
        await using var connected = await ConnectedFixture.StartAsync(output, assembly, "all", noInline: false);
        var (scope, fixture) = (connected.Scope, connected.Process);
        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var first = await FlushUntilAnsweredAsync(scope, budget.Token);
        await fixture.RunAsync("late");
        var second = await scope.Collector.FlushAsync(budget.Token);

        var accuracy = Accuracy.Of([.. first, .. second], expected);
        // Cross-check: "late" alone in a fresh process, flushed after an idle start.
        var cold = await LateAloneAsync(assembly);
        var late = Accuracy.Of(second, cold);
        scope.Print($"instrumented {flavor} build, inlining on: precision {accuracy.Precision:0.00} recall {accuracy.Recall:0.00} ({first.Count} + {second.Count} hits of {expected.Count} expected); warm 'late' flush vs a cold run of 'late' alone: {late}");
        output.WriteLine(accuracy.ToString());

        Assert.True(scope.Collector.FlushesCheaply);
        Assert.Equal(1.0, accuracy.Precision);
        Assert.Equal(1.0, accuracy.Recall);
        Assert.Superset(ExpectedMethods.LateOnly(assembly), cold);
        Assert.Equal(cold.Order(StringComparer.Ordinal), second.Select(h => h.Method.Id).Order(StringComparer.Ordinal));
    }

    private async Task<HashSet<string>> LateAloneAsync(string assembly)
    {
        await using var connected = await ConnectedFixture.StartAsync(output, assembly, "idle", noInline: false);
        var (scope, fixture) = (connected.Scope, connected.Process);
        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var idle = await FlushUntilAnsweredAsync(scope, budget.Token);
        await fixture.RunAsync("late");
        var late = await scope.Collector.FlushAsync(budget.Token);
        output.WriteLine($"cold: idle flush {idle.Count} hits, late flush {late.Count}; {scope.Collector.Statistics}");
        return late.Select(h => h.Method.Id).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// Flushes until the library has answered once. Its EventSource is made on a thread of its own
    /// after the first registration, so a flush right after start may find none yet (its hits
    /// then come with the next flush, nothing is lost): comparing a flush with a scenario needs one
    /// answered flush before the scenario.
    /// </summary>
    private static async Task<List<MethodHit>> FlushUntilAnsweredAsync(CollectorScope scope, CancellationToken cancellationToken)
    {
        var hits = new List<MethodHit>();
        for (var attempt = 0; scope.Collector.Statistics.ProbeFlushes == 0 && attempt < 100; attempt++)
        {
            hits.AddRange(await scope.Collector.FlushAsync(cancellationToken));
            await Task.Delay(20, cancellationToken);
        }

        Assert.True(scope.Collector.Statistics.ProbeFlushes > 0, "the probes library never answered a flush");
        return hits;
    }

    private static string Instrument(string builtAssembly)
    {
        var directory = Path.Combine(Path.GetTempPath(), "sl-agent-tests", "instrumented-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        foreach (var file in Directory.EnumerateFiles(Path.GetDirectoryName(builtAssembly)!))
        {
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        }

        var result = new Sealights.Coverage.Instrumentation.PublishFolderInstrumenter(Sealights.Coverage.Instrumentation.ProbesAssembly.Default()).Instrument(directory);
        Assert.False(result.Refused, string.Join("; ", result.Assemblies.Select(a => a.Describe())));
        return Path.Combine(directory, Path.GetFileName(builtAssembly));
    }
}
