using System.Net.Sockets;
using System.Security.Cryptography;
using Sealights.Lambda.Agent.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Tests;

/// <summary>
/// What may go wrong around the diagnostic port: no runtime, a runtime that dies, a peer that
/// is not a runtime. The collector must never throw, never overrun its budget, and keep
/// collecting from the next real runtime.
/// </summary>
public sealed class FaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task NoRuntimeEverConnects_FlushStopAndDisposeReturnNothingWithoutWaiting()
    {
        var scope = await CollectorScope.StartAsync(output, FixtureBuilds.JitAssembly);
        await using (scope)
        {
            var collector = scope.Collector;
            Assert.True(collector.IsCollecting);
            Assert.True(File.Exists(collector.DiagnosticPortPath));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(scope.SocketDirectory));
            Assert.Equal(collector.DiagnosticPortPath + ",connect,nosuspend", collector.RuntimePortSetting);

            // Nothing to wait for: each call returns on its own, with budgets far beyond the hang
            // bound, so a call that waited for a runtime (or for its budget) fails here.
            Assert.Empty(await collector.FlushAsync(CancellationToken.None).WaitAsync(FixtureProcess.Timeout));
            Assert.Empty(await collector.StopAsync(TimeSpan.FromHours(1)).WaitAsync(FixtureProcess.Timeout));
            await collector.DisposeAsync().AsTask().WaitAsync(FixtureProcess.Timeout);
            Assert.DoesNotContain(scope.LogLines, l => l.Contains("shutdown budget", StringComparison.Ordinal));
        }

        Assert.False(File.Exists(scope.Collector.DiagnosticPortPath));
    }

    [Fact]
    public async Task CannotListen_CollectorCollectsNothingAndSaysSoOnce()
    {
        // A socket path longer than a Unix socket allows.
        var tooLong = Path.Combine(Path.GetTempPath(), "sl-agent-tests", new string('x', 120));
        var log = new List<string>();
        await using var collector = await MethodHits.MethodHitCollector.StartAsync(tooLong, Path.GetTempPath(), log.Add, CancellationToken.None);

        Assert.False(collector.IsCollecting);
        Assert.False(Directory.Exists(tooLong));
        Assert.Empty(await collector.FlushAsync(CancellationToken.None));
        Assert.Empty(await collector.StopAsync(TimeSpan.FromSeconds(1)));
        output.WriteLine(Assert.Single(log));
    }

    [Fact]
    public async Task RuntimeKilledMidSession_TheNextProcessIsCollected()
    {
        var assembly = FixtureBuilds.JitAssembly;
        var expected = ExpectedMethods.AllAndLateFirstExecution(assembly);
        await using var scope = await CollectorScope.StartAsync(output, assembly);

        await using (var doomed = FixtureProcess.Start(assembly, "idle", scope.Collector.RuntimePortSetting))
        {
            await doomed.WaitForLineAsync("ready");
            await scope.WaitForRuntimeAsync();
            await doomed.RunAsync("all");
            await doomed.KillAsync();
        }

        await scope.WaitForRuntimeGoneAsync();
        // Whatever the killed process had flushed; the point is that nothing throws.
        output.WriteLine($"after the kill: {(await scope.Collector.FlushAsync(CancellationToken.None)).Count} hits");

        await using var next = FixtureProcess.Start(assembly, "all", scope.Collector.RuntimePortSetting);
        await next.WaitForLineAsync("ready");
        await scope.WaitForRuntimeAsync();
        await next.RunAsync("late");
        var hits = await scope.Collector.FlushAsync(CancellationToken.None);

        // A new process reports its methods afresh.
        var accuracy = Accuracy.Of(hits, expected);
        output.WriteLine("second process: " + accuracy);
        Assert.Equal(1.0, accuracy.Precision);
        Assert.Equal(1.0, accuracy.Recall);
        Assert.Equal(2, scope.Collector.Statistics.RuntimesConnected);
    }

    [Fact]
    public async Task ProcessesStartingRightAfterThePreviousExited_AreEachCollected()
    {
        // The exiting runtime reconnects once more after its stream ends; it must not take the
        // place of the next process.
        var assembly = FixtureBuilds.JitAssembly;
        var expected = ExpectedMethods.AllAndLateFirstExecution(assembly);
        await using var scope = await CollectorScope.StartAsync(output, assembly);
        for (var i = 0; i < 3; i++)
        {
            await using var fixture = FixtureProcess.Start(assembly, "all", scope.Collector.RuntimePortSetting);
            await fixture.WaitForLineAsync("ready");
            await scope.WaitForRuntimeAsync();
            await fixture.RunAsync("late");
            var accuracy = Accuracy.Of(await scope.Collector.FlushAsync(CancellationToken.None), expected);
            output.WriteLine($"process {i + 1}: {accuracy}");
            Assert.Equal(1.0, accuracy.Recall);
            await fixture.ExitAsync();
            await scope.WaitForRuntimeGoneAsync();
        }

        Assert.Equal(3, scope.Collector.Statistics.RuntimesConnected);
    }

    [Fact]
    public async Task ProcessExitingBeforeAnyFlush_IsCollectedFromItsExitRundown()
    {
        var assembly = FixtureBuilds.JitAssembly;
        var expected = ExpectedMethods.AllAndLateFirstExecution(assembly);
        await using var connected = await ConnectedFixture.StartAsync(output, assembly, "all");
        var (scope, fixture) = (connected.Scope, connected.Process);
        await fixture.RunAsync("late");
        await fixture.ExitAsync();
        await scope.WaitForRuntimeGoneAsync();

        var accuracy = Accuracy.Of(await scope.Collector.StopAsync(TimeSpan.FromSeconds(2)), expected);
        output.WriteLine(accuracy.ToString());
        Assert.Equal(1.0, accuracy.Precision);
        Assert.Equal(1.0, accuracy.Recall);
    }

    [Fact]
    public async Task StopWithATinyBudget_IsCutByItAndSaysSo_AndDisposeDoesNotWaitForTheRuntime()
    {
        var assembly = FixtureBuilds.JitAssembly;
        await using var connected = await ConnectedFixture.StartAsync(output, assembly, "all");
        var (scope, fixture) = (connected.Scope, connected.Process);

        // A frozen runtime cannot answer the session's stop, so the budget is what ends it (its
        // own line says so); a live one could stop within 10 ms now and then (it did in a CI run).
        await fixture.SignalAsync("STOP");
        await scope.Collector.StopAsync(TimeSpan.FromMilliseconds(10)).WaitAsync(FixtureProcess.Timeout);
        Assert.Contains(scope.LogLines, l => l.Contains("the final session did not stop within the shutdown budget", StringComparison.Ordinal));

        // The runtime is still attached, its session never stopped: closing must not wait on it
        // (the fixture is frozen and only exits when told, so a dispose that waited for it would hang).
        await scope.Collector.DisposeAsync().AsTask().WaitAsync(FixtureProcess.Timeout);
        Assert.False(fixture.HasExited);
        Assert.False(File.Exists(scope.Collector.DiagnosticPortPath));
        await fixture.SignalAsync("CONT");
    }

    [Fact]
    public async Task GarbageOnTheSocket_CollectionGoesOnWithTheRealRuntime()
    {
        var assembly = FixtureBuilds.JitAssembly;
        var expected = ExpectedMethods.AllAndLateFirstExecution(assembly);
        await using var scope = await CollectorScope.StartAsync(output, assembly);
        var port = scope.Collector.DiagnosticPortPath;

        // Random bytes, then closed.
        await SendAsync(port, RandomNumberGenerator.GetBytes(4096), keepOpen: false);
        // Random bytes on a connection left open (the server gives up parsing after a while).
        using var lingering = await SendAsync(port, RandomNumberGenerator.GetBytes(16), keepOpen: true);
        // A well-formed runtime advertisement from a peer that then hangs up: it is accepted as
        // a runtime, its session cannot start, and the agent listens again.
        await SendAsync(port, Advertisement(), keepOpen: false);

        await using var fixture = FixtureProcess.Start(assembly, "all", scope.Collector.RuntimePortSetting);
        await fixture.WaitForLineAsync("ready");
        await scope.WaitForRuntimeAsync();
        await fixture.RunAsync("late");
        var accuracy = Accuracy.Of(await scope.Collector.FlushAsync(CancellationToken.None), expected);

        output.WriteLine(accuracy.ToString());
        Assert.True(scope.Collector.IsCollecting);
        Assert.Equal(1.0, accuracy.Precision);
        Assert.Equal(1.0, accuracy.Recall);
    }

    private static async Task<Socket?> SendAsync(string path, byte[] bytes, bool keepOpen)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        await socket.SendAsync(bytes);
        if (keepOpen)
        {
            return socket;
        }

        socket.Shutdown(SocketShutdown.Both);
        socket.Dispose();
        return null;
    }

    // The diagnostics IPC advertise block: magic, runtime instance cookie, process id, reserved.
    private static byte[] Advertisement()
    {
        var bytes = new byte[8 + 16 + 8 + 2];
        "ADVR_V1\0"u8.CopyTo(bytes);
        Guid.NewGuid().TryWriteBytes(bytes.AsSpan(8));
        BitConverter.TryWriteBytes(bytes.AsSpan(24), (ulong)Environment.ProcessId);
        return bytes;
    }
}
