using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>Where flushed method hits go: the debug file now, footprints delivery next.</summary>
public interface IMethodHitSink
{
    Task WriteAsync(IReadOnlyList<MethodHit> hits, bool isFinal, CancellationToken cancellationToken);
}
