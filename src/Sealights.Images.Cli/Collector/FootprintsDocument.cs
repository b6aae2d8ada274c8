using System.Text.Json;

namespace Sealights.Images.Cli.Collector;

/// <summary>
/// A footprints request body (format 6.0, as the agent and Sealights' Node agent send it), read
/// and checked here: the collector refuses what the report could not use, with the reason.
/// <code>
/// {"formatVersion":"6.0","meta":{…},"methods":[id…],
///  "executions":[{["executionId":…,]"hits":[{"methods":[index…],"start":s,"end":s,"isInitFootprints":b,…}]}]}
/// </code>
/// </summary>
public sealed record FootprintsDocument(IReadOnlyList<string> Methods, IReadOnlyList<FootprintsExecution> Executions, string? AgentId, string? LabId)
{
    // Epoch seconds; a value this large is milliseconds (the agent and slnodejs send seconds).
    private const long MillisecondsThreshold = 100_000_000_000;

    /// <summary>The document, or the reason it is not one (<paramref name="problem"/>).</summary>
    public static FootprintsDocument? TryParse(ReadOnlySpan<byte> json, out string? problem)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            return TryRead(document.RootElement, out problem);
        }
        catch (JsonException e)
        {
            problem = $"the body is not JSON ({e.Message})";
            return null;
        }
    }

    /// <summary>Reads an already parsed document (a stored record's body).</summary>
    public static FootprintsDocument? TryRead(JsonElement root, out string? problem)
    {
        problem = Check(root, out var document);
        return problem is null ? document : null;
    }

    private static string? Check(JsonElement root, out FootprintsDocument? document)
    {
        document = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return "the body is not a JSON object";
        }
        if (!root.TryGetProperty("formatVersion", out var version) || version.ValueKind != JsonValueKind.String)
        {
            return "no formatVersion (expected \"6.0\")";
        }
        if (version.GetString() != "6.0")
        {
            return $"formatVersion \"{version.GetString()}\" is not supported (expected \"6.0\")";
        }
        string? agentId = null, labId = null;
        if (root.TryGetProperty("meta", out var meta) && meta.ValueKind == JsonValueKind.Object)
        {
            agentId = Text(meta, "agentId");
            labId = Text(meta, "labId");
        }
        if (!root.TryGetProperty("methods", out var methodsElement) || methodsElement.ValueKind != JsonValueKind.Array)
        {
            return "no methods array";
        }
        var methods = new List<string>(methodsElement.GetArrayLength());
        foreach (var method in methodsElement.EnumerateArray())
        {
            if (method.ValueKind != JsonValueKind.String || method.GetString() is not { Length: > 0 } id)
            {
                return $"methods[{methods.Count}] is not a method id (a non-empty string)";
            }
            methods.Add(id);
        }
        if (!root.TryGetProperty("executions", out var executionsElement) || executionsElement.ValueKind != JsonValueKind.Array)
        {
            return "no executions array";
        }
        var executions = new List<FootprintsExecution>();
        foreach (var execution in executionsElement.EnumerateArray())
        {
            var at = $"executions[{executions.Count}]";
            if (execution.ValueKind != JsonValueKind.Object)
            {
                return $"{at} is not an object";
            }
            string? executionId = null;
            if (execution.TryGetProperty("executionId", out var idElement) && idElement.ValueKind != JsonValueKind.Null)
            {
                if (idElement.ValueKind != JsonValueKind.String)
                {
                    return $"{at}.executionId is not a string";
                }
                executionId = idElement.GetString();
            }
            if (!execution.TryGetProperty("hits", out var hitsElement) || hitsElement.ValueKind != JsonValueKind.Array)
            {
                return $"{at} has no hits array";
            }
            var hits = new List<FootprintsHits>();
            foreach (var hit in hitsElement.EnumerateArray())
            {
                if (ReadHits(hit, methods.Count, $"{at}.hits[{hits.Count}]", out var entry) is { } problem)
                {
                    return problem;
                }
                hits.Add(entry!);
            }
            executions.Add(new FootprintsExecution(executionId, hits));
        }
        document = new FootprintsDocument(methods, executions, agentId, labId);
        return null;
    }

    private static string? ReadHits(JsonElement hit, int methodCount, string at, out FootprintsHits? entry)
    {
        entry = null;
        if (hit.ValueKind != JsonValueKind.Object)
        {
            return $"{at} is not an object";
        }
        if (!hit.TryGetProperty("methods", out var refs) || refs.ValueKind != JsonValueKind.Array)
        {
            return $"{at} has no methods array";
        }
        var indices = new int[refs.GetArrayLength()];
        var i = 0;
        foreach (var reference in refs.EnumerateArray())
        {
            if (reference.ValueKind != JsonValueKind.Number || !reference.TryGetInt32(out var index) || index < 0 || index >= methodCount)
            {
                return $"{at}.methods[{i}] is not an index into methods (0..{methodCount - 1})";
            }
            indices[i++] = index;
        }
        if (!TryTime(hit, "start", out var start) || !TryTime(hit, "end", out var end))
        {
            return $"{at} needs start and end as whole epoch seconds";
        }
        if (start >= MillisecondsThreshold || end >= MillisecondsThreshold)
        {
            return $"{at}: start/end look like milliseconds; the format takes epoch seconds";
        }
        if (start > end)
        {
            return $"{at}: start ({start}) is after end ({end})";
        }
        entry = new FootprintsHits(indices, start, end, Flag(hit, "isInitFootprints"), Flag(hit, "isFinalFootprints"));
        return null;
    }

    private static bool TryTime(JsonElement hit, string name, out long value)
    {
        value = 0;
        return hit.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value) && value >= 0;
    }

    private static bool Flag(JsonElement hit, string name) =>
        hit.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.True;

    private static string? Text(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.String ? element.GetString() : null;
}

/// <summary>One entry of <c>executions[]</c>: the execution (none in collector mode) and its hits.</summary>
public sealed record FootprintsExecution(string? ExecutionId, IReadOnlyList<FootprintsHits> Hits);

/// <summary>One hits entry: indices into the document's methods, and its window in epoch seconds.</summary>
public sealed record FootprintsHits(IReadOnlyList<int> Methods, long Start, long End, bool IsInit, bool IsFinal);
