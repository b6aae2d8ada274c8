namespace Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;

/// <summary>
/// The real clock shifted by an offset the test moves forward: backoff, the execution cache
/// and the hold rule see time jump, while timeouts and deadlines still run in real time.
/// </summary>
public sealed class TestClock : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}
