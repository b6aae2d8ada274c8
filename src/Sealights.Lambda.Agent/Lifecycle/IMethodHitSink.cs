using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>
/// Where flushed method hits go (footprints delivery, the debug file), and the moments of the
/// lifecycle a sink may use. No member may throw or outlive its budget or deadline.
/// </summary>
public interface IMethodHitSink : IAsyncDisposable
{
    /// <summary>Takes a flush; returns once it is safe (spooled or written), never waits for a network.</summary>
    Task WriteAsync(IReadOnlyList<MethodHit> hits, bool isFinal, CancellationToken cancellationToken);

    /// <summary>The first INVOKE arrived: methods first seen before it ran during init.</summary>
    void FirstInvoke(DateTimeOffset receivedAt)
    {
    }

    /// <summary>Every INVOKE, after <see cref="FirstInvoke"/> for the first: a thawed moment (e.g. for a due ping). Returns at once.</summary>
    void Invoked()
    {
    }

    /// <summary>A moment right after a response to send what is pending; returns within <paramref name="budget"/>.</summary>
    Task SendPendingAsync(TimeSpan budget) => Task.CompletedTask;

    /// <summary>SHUTDOWN, after the final write: the last chance, until <paramref name="deadline"/>.</summary>
    Task DrainAsync(DateTimeOffset deadline) => Task.CompletedTask;

    ValueTask IAsyncDisposable.DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Every flush to each of several sinks (footprints delivery and the debug file).</summary>
public sealed class MethodHitSinks(IReadOnlyList<IMethodHitSink> sinks) : IMethodHitSink
{
    public Task WriteAsync(IReadOnlyList<MethodHit> hits, bool isFinal, CancellationToken cancellationToken) =>
        Task.WhenAll(sinks.Select(s => s.WriteAsync(hits, isFinal, cancellationToken)));

    public void FirstInvoke(DateTimeOffset receivedAt)
    {
        foreach (var sink in sinks)
        {
            sink.FirstInvoke(receivedAt);
        }
    }

    public void Invoked()
    {
        foreach (var sink in sinks)
        {
            sink.Invoked();
        }
    }

    public Task SendPendingAsync(TimeSpan budget) => Task.WhenAll(sinks.Select(s => s.SendPendingAsync(budget)));

    public Task DrainAsync(DateTimeOffset deadline) => Task.WhenAll(sinks.Select(s => s.DrainAsync(deadline)));

    public async ValueTask DisposeAsync()
    {
        foreach (var sink in sinks)
        {
            await sink.DisposeAsync();
        }
    }
}
