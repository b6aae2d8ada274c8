using Sealights.Coverage.BuildMaps;

namespace Sealights.Images.Cli.Collector;

/// <summary>
/// The method ids of the build maps the collector was told to expect; an id outside them is
/// warned about once (a footprints request from another build, or a build map that is out of date).
/// </summary>
public sealed class KnownMethods(IReadOnlyCollection<BuildMap> maps, TextWriter warnings)
{
    private const int WarnedIdsShown = 20;

    private readonly HashSet<string> _ids = maps.SelectMany(m => m.Assemblies).SelectMany(a => a.Methods).Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
    private readonly HashSet<string> _unknown = new(StringComparer.Ordinal);
    private readonly object _lock = new();

    public bool Enabled => maps.Count > 0;

    /// <summary>Distinct unknown ids seen so far.</summary>
    public int UnknownCount
    {
        get
        {
            lock (_lock)
            {
                return _unknown.Count;
            }
        }
    }

    public void Check(IEnumerable<string> ids, string? bsid)
    {
        if (!Enabled)
        {
            return;
        }
        foreach (var id in ids)
        {
            if (_ids.Contains(id))
            {
                continue;
            }
            lock (_lock)
            {
                if (!_unknown.Add(id))
                {
                    continue;
                }
                if (_unknown.Count <= WarnedIdsShown)
                {
                    warnings.WriteLine($"sl-images collect: warning: method id not in the build map(s) (bsid {bsid ?? "?"}): {id}");
                }
                else if (_unknown.Count == WarnedIdsShown + 1)
                {
                    warnings.WriteLine($"sl-images collect: warning: more unknown method ids; further ones are counted, not listed (GET /health)");
                }
            }
        }
    }
}
