using Sealights.Coverage;

namespace Sealights.Lambda.Agent.MethodHits;

/// <summary>
/// The method hits of one runtime process. Events arrive from up to two session threads at once
/// (rotation overlaps sessions) and are only recorded here, keyed by (module, token); mapping to
/// source methods happens in <see cref="Drain"/>, off the event path, once the module's IL path
/// is known (rundown lists modules after their methods). Each method is reported once per
/// process, whatever repeats it: tier-1 rejit, OSR, overlapping sessions, rundown.
/// </summary>
internal sealed class ProcessMethodHits : IMethodEventSink
{
    // Bounds memory if a stream ever lists methods of modules it never names.
    private const int MaxPending = 1_000_000;

    private readonly ApplicationModules _application;
    private readonly object _lock = new();
    private readonly Dictionary<long, Module> _modules = [];
    private readonly Dictionary<(long Module, int Token), Observation> _pending = [];
    private readonly HashSet<(long Module, int Token)> _done = [];
    private readonly HashSet<MethodIdentity> _reported = [];

    public ProcessMethodHits(ApplicationModules application)
    {
        _application = application;
    }

    /// <summary>Source methods reported so far for this process.</summary>
    public int ReportedCount
    {
        get
        {
            lock (_lock)
            {
                return _reported.Count;
            }
        }
    }

    public void OnModule(long moduleId, string ilPath)
    {
        lock (_lock)
        {
            _modules.TryAdd(moduleId, new Module(ilPath, _application.IsCandidate(ilPath)));
        }
    }

    public void OnMethodCalled(long moduleId, int methodToken, DateTimeOffset timestamp) =>
        Record(moduleId, methodToken, new Observation(timestamp, Exact: true));

    public void OnMethodListed(long moduleId, int methodToken, DateTimeOffset sessionStart) =>
        Record(moduleId, methodToken, new Observation(sessionStart, Exact: false));

    /// <summary>The application's methods first seen since the last drain, earliest first.</summary>
    public List<MethodHit> Drain()
    {
        var ready = new List<(string Path, int Token, Observation Seen)>();
        lock (_lock)
        {
            var resolvable = new List<(long Module, int Token)>();
            foreach (var (key, seen) in _pending)
            {
                if (_modules.TryGetValue(key.Module, out var module))
                {
                    resolvable.Add(key);
                    if (module.IsCandidate)
                    {
                        ready.Add((module.Path, key.Token, seen));
                        _done.Add(key);
                    }
                }
            }

            foreach (var key in resolvable)
            {
                _pending.Remove(key);
            }
        }

        // Catalog reads (files, PDBs) happen outside the lock so the session threads never wait.
        var firstSeen = new Dictionary<MethodIdentity, DateTimeOffset>();
        foreach (var (path, token, seen) in ready)
        {
            if (_application.CatalogFor(path) is { } catalog && catalog.TryResolve(token, out var identity))
            {
                // MoveNext and its kickoff method are one identity: keep the earliest.
                if (!firstSeen.TryGetValue(identity, out var known) || seen.Timestamp < known)
                {
                    firstSeen[identity] = seen.Timestamp;
                }
            }
        }

        var hits = new List<MethodHit>();
        lock (_lock)
        {
            foreach (var (identity, timestamp) in firstSeen)
            {
                if (_reported.Add(identity))
                {
                    hits.Add(new MethodHit(identity, timestamp));
                }
            }
        }

        hits.Sort((a, b) => a.FirstSeen != b.FirstSeen
            ? a.FirstSeen.CompareTo(b.FirstSeen)
            : string.CompareOrdinal(a.Method.Id, b.Method.Id));
        return hits;
    }

    private void Record(long moduleId, int token, Observation seen)
    {
        lock (_lock)
        {
            if (_modules.TryGetValue(moduleId, out var module) && !module.IsCandidate)
            {
                return;
            }

            var key = (moduleId, token);
            if (_done.Contains(key))
            {
                return;
            }

            if (_pending.TryGetValue(key, out var known))
            {
                // A live timestamp beats the rundown's stand-in; among live ones the earliest wins.
                if ((seen.Exact && !known.Exact) || (seen.Exact == known.Exact && seen.Timestamp < known.Timestamp))
                {
                    _pending[key] = seen;
                }
            }
            else if (_pending.Count < MaxPending)
            {
                _pending.Add(key, seen);
            }
        }
    }

    private readonly record struct Module(string Path, bool IsCandidate);

    private readonly record struct Observation(DateTimeOffset Timestamp, bool Exact);
}
