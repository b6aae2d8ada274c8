namespace Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;

/// <summary>
/// The real clock shifted by an offset the test moves forward: backoff, the execution cache
/// and the hold rule see time jump, while timeouts and deadlines still run in real time.
/// Timestamps (how long a send pass has run) move only with <see cref="AdvanceTimestamps"/>.
/// </summary>
public sealed class TestClock : TimeProvider
{
    private long _offsetTicks;
    private long _timestampOffset;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public override long GetTimestamp() => base.GetTimestamp() + Interlocked.Read(ref _timestampOffset);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    /// <summary>Makes everything timed by timestamps so far look <paramref name="by"/> older.</summary>
    public void AdvanceTimestamps(TimeSpan by) =>
        Interlocked.Add(ref _timestampOffset, (long)(by.TotalSeconds * TimestampFrequency));
}
