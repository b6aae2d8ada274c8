using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>Until footprints delivery exists, hits without a debug file are only counted.</summary>
public sealed class CountingSink(Action<string> log) : IMethodHitSink
{
    private int _total;

    public Task WriteAsync(IReadOnlyList<MethodHit> hits, bool isFinal, CancellationToken cancellationToken)
    {
        var total = Interlocked.Add(ref _total, hits.Count);
        if (isFinal)
        {
            log($"{total} application methods executed in this environment (set SL_DEBUG_HITS_FILE to list them)");
        }
        return Task.CompletedTask;
    }
}
