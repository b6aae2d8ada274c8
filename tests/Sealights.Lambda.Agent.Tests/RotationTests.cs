using System.Diagnostics;
using Sealights.Lambda.Agent.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Tests;

/// <summary>
/// A warm environment: one process, several invocations. What an invocation ran must come out
/// at the next flush (rotation), with the runtime's own timestamps.
/// </summary>
public sealed class RotationTests(ITestOutputHelper output)
{
    // Event times come from the runtime's clock, converted through the trace's sync time
    // (milliseconds); the window is measured by this process around the action.
    private static readonly TimeSpan ClockTolerance = TimeSpan.FromMilliseconds(5);

    [Fact]
    public async Task HitsOfAnActionAfterAFlush_ComeWithTheNextFlush_StampedInsideTheAction()
    {
        var assembly = FixtureBuilds.JitAssembly;
        var late = ExpectedMethods.LateOnly(assembly);
        await using var connected = await ConnectedFixture.StartAsync(output, assembly, "idle");
        var (scope, fixture) = (connected.Scope, connected.Process);

        var first = await FlushAsync(scope);
        Assert.Contains(first, h => h.Method.Id == ExpectedMethods.Id("Fixture.Program|Main(System.String[])"));
        Assert.DoesNotContain(first, h => late.Contains(h.Method.Id));

        var before = DateTimeOffset.UtcNow;
        await fixture.RunAsync("late");
        var after = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var second = await FlushAsync(scope);
        var flushTook = clock.Elapsed;
        var stopTook = scope.Collector.Statistics.LastRotationStop;

        Assert.Equal(late.Order(), second.Select(h => h.Method.Id).Order());
        foreach (var hit in second)
        {
            output.WriteLine($"{hit.Method.Id} first seen {(hit.FirstSeen - before).TotalMilliseconds:0.0} ms into the {(after - before).TotalMilliseconds:0.0} ms action");
            Assert.InRange(hit.FirstSeen, before - ClockTolerance, after + ClockTolerance);
        }

        // Idle rotations: the cost of a flush when nothing new ran.
        var idle = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            clock.Restart();
            Assert.Empty(await FlushAsync(scope));
            idle.Add(clock.Elapsed.TotalMilliseconds);
        }

        idle.Sort();
        scope.Print(
            $"rotation: flush after an action {flushTook.TotalMilliseconds:0} ms "
            + $"(stop+drain of the old session {stopTook?.TotalMilliseconds:0} ms); "
            + $"idle flushes min {idle[0]:0} / median {idle[2]:0} / max {idle[^1]:0} ms");

        await fixture.ExitAsync();
        Assert.Empty(await scope.Collector.StopAsync(TimeSpan.FromSeconds(5)));
    }

    private static async Task<IReadOnlyList<MethodHits.MethodHit>> FlushAsync(CollectorScope scope)
    {
        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await scope.Collector.FlushAsync(budget.Token);
    }
}
