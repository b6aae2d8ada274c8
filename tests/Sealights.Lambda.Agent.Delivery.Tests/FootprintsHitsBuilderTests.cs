using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Sealights.Lambda.Agent.Footprints;
using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// A flush's hits → footprints entries when a method comes more than once (exact hits and probe
/// intervals mixed): the entry spans from the earliest first time to the latest interval end, and
/// a method is init only when all of it ran before the first INVOKE.
/// </summary>
public sealed class FootprintsHitsBuilderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly Sealights.Coverage.MethodIdentity A = Hits.Method(1, 0);

    private static DateTimeOffset At(int seconds) => T0.AddSeconds(seconds);

    private static long Ms(int seconds) => At(seconds).ToUnixTimeMilliseconds();

    private static FootprintsHits Single(IReadOnlyList<MethodHit> hits, DateTimeOffset? firstInvoke = null) =>
        Assert.Single(FootprintsHitsBuilder.FromMethodHits(hits, firstInvoke, isFinal: false));

    [Fact]
    public void A_repeated_method_keeps_its_earliest_first_time_whichever_comes_first()
    {
        var later = Single([new MethodHit(A, At(5)), new MethodHit(A, At(9))]);
        var earlier = Single([new MethodHit(A, At(9)), new MethodHit(A, At(5))]);

        Assert.Equal((Ms(5), Ms(5)), (later.StartMs, later.EndMs));
        Assert.Equal((Ms(5), Ms(5)), (earlier.StartMs, earlier.EndMs));
        Assert.Equal([A.Id], later.Methods);
    }

    [Fact]
    public void A_probe_interval_after_an_exact_hit_gives_the_end()
    {
        var entry = Single([new MethodHit(A, At(5)), new MethodHit(A, At(6), At(20))]);

        Assert.Equal((Ms(5), Ms(20)), (entry.StartMs, entry.EndMs));
    }

    [Fact]
    public void The_latest_of_two_probe_intervals_gives_the_end_in_either_order()
    {
        var growing = Single([new MethodHit(A, At(1), At(10)), new MethodHit(A, At(2), At(30))]);
        var shrinking = Single([new MethodHit(A, At(2), At(30)), new MethodHit(A, At(1), At(10))]);

        Assert.Equal((Ms(1), Ms(30)), (growing.StartMs, growing.EndMs));
        Assert.Equal((Ms(1), Ms(30)), (shrinking.StartMs, shrinking.EndMs));
    }

    [Fact]
    public void An_exact_hit_after_a_probe_interval_keeps_the_intervals_end()
    {
        var entry = Single([new MethodHit(A, At(2), At(30)), new MethodHit(A, At(4))]);

        Assert.Equal((Ms(2), Ms(30)), (entry.StartMs, entry.EndMs));
    }

    [Fact]
    public void A_method_whose_later_interval_reaches_past_the_first_invoke_is_not_init()
    {
        // Ran in init (interval 1-3) and again into the first invocation (interval 4-12, INVOKE at 10).
        var entries = FootprintsHitsBuilder.FromMethodHits([new MethodHit(A, At(1), At(3)), new MethodHit(A, At(4), At(12))], At(10), isFinal: true);

        var entry = Assert.Single(entries);
        Assert.False(entry.IsInit);
        Assert.True(entry.IsFinal);
        Assert.Equal((Ms(1), Ms(12)), (entry.StartMs, entry.EndMs));
    }

    [Fact]
    public void A_hit_at_the_instant_of_the_first_invoke_belongs_to_the_invocation()
    {
        var b = Hits.Method(1, 1);

        var entries = FootprintsHitsBuilder.FromMethodHits([new MethodHit(A, At(10)), new MethodHit(b, At(10).AddTicks(-TimeSpan.TicksPerMillisecond))], At(10), isFinal: false);

        Assert.Equal(2, entries.Count);
        Assert.Equal([b.Id], entries[0].Methods);
        Assert.True(entries[0].IsInit);
        Assert.Equal([A.Id], entries[1].Methods);
        Assert.False(entries[1].IsInit);
    }
}
