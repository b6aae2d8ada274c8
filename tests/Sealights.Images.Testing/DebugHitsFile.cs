using System.Text.Json;

namespace Sealights.Images.Testing;

/// <summary>
/// The agent's debug hits file (<c>SL_DEBUG_HITS_FILE</c>, one JSON line per method hit): the
/// ground truth of what a function ran, for tests that compare it with what was delivered.
/// </summary>
public static class DebugHitsFile
{
    /// <summary>Method id → first seen. Each method is reported once per process: a second line for it throws.</summary>
    public static Dictionary<string, DateTimeOffset> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"the agent wrote no hits file at {path}", path);
        }
        var hits = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var line in JsonLinesFile.CompleteLines(path))
        {
            using var json = JsonDocument.Parse(line);
            if (json.RootElement.TryGetProperty("method", out var method)
                && !hits.TryAdd(method.GetString()!, json.RootElement.GetProperty("firstSeen").GetDateTimeOffset()))
            {
                throw new InvalidDataException($"reported twice: {line}");
            }
        }
        return hits;
    }

    /// <summary>
    /// The methods the file names, in either mode: first execution writes each method once per
    /// process, probes once per flush it ran in (so a method run by two invocations is there twice).
    /// </summary>
    public static HashSet<string> ReadMethods(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"the agent wrote no hits file at {path}", path);
        }
        var methods = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in JsonLinesFile.CompleteLines(path))
        {
            using var json = JsonDocument.Parse(line);
            if (json.RootElement.TryGetProperty("method", out var method))
            {
                methods.Add(method.GetString()!);
            }
        }
        return methods;
    }
}
