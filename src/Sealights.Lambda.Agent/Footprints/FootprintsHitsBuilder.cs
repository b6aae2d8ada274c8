using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Footprints;

/// <summary>Turns one flush of method hits into footprints hits entries.</summary>
public static class FootprintsHitsBuilder
{
    /// <summary>
    /// Splits a flush into at most two entries: the methods first seen before
    /// <paramref name="firstInvokeAt"/> (init footprints) and the others, each with
    /// <c>start</c>/<c>end</c> = min/max of its hits' event timestamps. While the first INVOKE is
    /// unknown (<c>null</c>) every hit counts as init. Duplicate method ids keep their earliest
    /// hit. An empty flush gives no entry.
    /// A probe hit spans an interval (<see cref="MethodHit.LastSeen"/>): it widens its entry's end
    /// to that, and it is init only when its whole interval is before the first INVOKE (the first
    /// invocation's flush also carries what init ran: one entry for that invocation).
    /// </summary>
    public static IReadOnlyList<FootprintsHits> FromMethodHits(IReadOnlyList<MethodHit> hits, DateTimeOffset? firstInvokeAt, bool isFinal)
    {
        if (hits.Count == 0)
        {
            return [];
        }
        // Per id: the earliest first time, and the latest end of a probe interval (null: exact times only).
        var earliest = new Dictionary<string, (DateTimeOffset First, DateTimeOffset? Last)>(hits.Count, StringComparer.Ordinal);
        var order = new List<string>(hits.Count);
        foreach (var hit in hits)
        {
            var id = hit.Method.Id;
            if (earliest.TryGetValue(id, out var seen))
            {
                var last = seen.Last is null || (hit.LastSeen is { } until && until > seen.Last) ? hit.LastSeen ?? seen.Last : seen.Last;
                earliest[id] = (hit.FirstSeen < seen.First ? hit.FirstSeen : seen.First, last);
            }
            else
            {
                earliest.Add(id, (hit.FirstSeen, hit.LastSeen));
                order.Add(id);
            }
        }
        var init = new Group();
        var invoked = new Group();
        foreach (var id in order)
        {
            var (at, last) = earliest[id];
            var until = last ?? at;
            (firstInvokeAt is null || until < firstInvokeAt.Value ? init : invoked).Add(id, at, until);
        }
        var entries = new List<FootprintsHits>(2);
        if (init.Methods.Count > 0)
        {
            entries.Add(init.ToHits(isInit: true, isFinal));
        }
        if (invoked.Methods.Count > 0)
        {
            entries.Add(invoked.ToHits(isInit: false, isFinal));
        }
        return entries;
    }

    private sealed class Group
    {
        public List<string> Methods { get; } = [];

        private long _start = long.MaxValue;
        private long _end = long.MinValue;

        public void Add(string id, DateTimeOffset at, DateTimeOffset until)
        {
            Methods.Add(id);
            _start = Math.Min(_start, at.ToUnixTimeMilliseconds());
            // An interval's end never before its start: a batch with start > end is not a batch.
            _end = Math.Max(_end, Math.Max(at.ToUnixTimeMilliseconds(), until.ToUnixTimeMilliseconds()));
        }

        public FootprintsHits ToHits(bool isInit, bool isFinal) => new(Methods, _start, _end, isInit, isFinal);
    }
}
