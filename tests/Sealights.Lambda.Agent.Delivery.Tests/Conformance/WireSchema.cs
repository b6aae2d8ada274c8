using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Sealights.Lambda.Agent.Delivery.Tests.Conformance;

/// <summary>
/// What makes two recordings comparable: the scenario's known values (a bsid, an execution id…)
/// become placeholders wherever they appear, and objects whose keys are data (environment
/// variables, network interfaces) have their keys folded into <c>*</c>.
/// </summary>
public sealed record WireVocabulary(IReadOnlyList<(string Value, string Placeholder)> KnownValues, IReadOnlyList<string> MapPaths)
{
    /// <summary>Connection-level headers the HTTP stack chooses; never part of the protocol.</summary>
    public static readonly IReadOnlySet<string> TransportHeaders = new HashSet<string>(StringComparer.Ordinal)
    {
        "host", "content-length", "connection", "transfer-encoding", "keep-alive", "expect",
    };

    /// <summary>Headers whose value itself is the protocol (compared literally, known values replaced).</summary>
    public static readonly IReadOnlySet<string> LiteralHeaders = new HashSet<string>(StringComparer.Ordinal)
    {
        "authorization", "content-type", "content-encoding", "accept",
    };

    public string? Placeholder(string value)
    {
        foreach (var (known, placeholder) in KnownValues)
        {
            if (value == known)
            {
                return placeholder;
            }
        }
        return null;
    }
}

/// <summary>
/// One agent's traffic reduced to its shape: per route template (method and path, known values
/// as placeholders, GUID segments as <c>{guid}</c>; agent events per event type), the query keys,
/// header names and body paths, each with the value shapes seen and whether it is always there.
/// Built from the stand-in backend's <c>--record-all</c> lines.
/// </summary>
public sealed partial class WireSchema
{
    private WireSchema(SortedDictionary<string, RouteShape> routes) => Routes = routes;

    public SortedDictionary<string, RouteShape> Routes { get; }

    public static WireSchema Extract(IEnumerable<JsonObject> records, WireVocabulary vocabulary)
    {
        var routes = new SortedDictionary<string, RouteShape>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            foreach (var (suffix, body) in SplitEvents(record["body"]))
            {
                var key = $"{(string)record["method"]!} {Template((string)record["path"]!, vocabulary)}{suffix}";
                if (!routes.TryGetValue(key, out var route))
                {
                    routes[key] = route = new RouteShape();
                }
                route.Add(record, body, vocabulary);
            }
        }
        return new WireSchema(routes);
    }

    /// <summary>
    /// Requests with an <c>events</c> array (agent events, the older event API) count once per event,
    /// under the route plus <c> #type=…</c>: each event type has a body of its own.
    /// </summary>
    private static IEnumerable<(string Suffix, JsonNode? Body)> SplitEvents(JsonNode? body)
    {
        if (body is JsonObject { } envelope && envelope["events"] is JsonArray { Count: > 0 } events)
        {
            foreach (var e in events)
            {
                var single = envelope.DeepClone().AsObject();
                single["events"] = new JsonArray(e?.DeepClone());
                yield return ($" #type={e?["type"]?.ToJsonString().Trim('"')}", single);
            }
            yield break;
        }
        yield return ("", body);
    }

    private static string Template(string path, WireVocabulary vocabulary) =>
        string.Join('/', path.Split('/').Select(segment =>
            vocabulary.Placeholder(segment) ?? (Guid().IsMatch(segment) ? "{guid}" : segment)));

    /// <summary>The shape of a string: a placeholder, or a class (guid, url, json{keys}…), never the value itself.</summary>
    public static string StringShape(string value, WireVocabulary vocabulary)
    {
        if (vocabulary.Placeholder(value) is { } placeholder)
        {
            return placeholder;
        }
        if (value.Length == 0)
        {
            return "empty";
        }
        if (value == "<jwt redacted>" || value.StartsWith("Bearer <jwt", StringComparison.Ordinal))
        {
            return value == "<jwt redacted>" ? "jwt" : value;
        }
        if (Guid().IsMatch(value))
        {
            return "guid";
        }
        if (value == "null")
        {
            return "\"null\"";
        }
        if (value.StartsWith('{'))
        {
            try
            {
                if (JsonNode.Parse(value) is JsonObject json)
                {
                    return $"json{{{string.Join(",", json.Select(p => p.Key).Order(StringComparer.Ordinal))}}}";
                }
            }
            catch (JsonException)
            {
                // Not JSON after all: a plain string.
            }
        }
        if (value.StartsWith("http://", StringComparison.Ordinal) || value.StartsWith("https://", StringComparison.Ordinal))
        {
            return "url";
        }
        if (IsoTime().IsMatch(value))
        {
            return "datetime";
        }
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return "digits";
        }
        return "string";
    }

    /// <summary>Numbers by what they evidently are: epoch seconds, epoch milliseconds, other integers, fractions.</summary>
    public static string NumberShape(JsonValue value)
    {
        var number = value.GetValue<JsonElement>().GetDouble();
        if (number != Math.Floor(number))
        {
            return "fraction";
        }
        return number switch
        {
            >= 1e9 and < 1e10 => "epoch-s",
            >= 1e12 and < 1e13 => "epoch-ms",
            _ => "integer",
        };
    }

    public static string ValueShape(JsonNode? node, WireVocabulary vocabulary) => node switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => "string:" + StringShape(v.GetValue<string>(), vocabulary),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => "number:" + NumberShape(v),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "unknown",
    };

    /// <summary>Readable text: one block per route, one line per query key, header and body path.</summary>
    public string Render()
    {
        var text = new StringBuilder();
        foreach (var (key, route) in Routes)
        {
            text.AppendLine($"{key}  ({route.Requests} requests)");
            text.AppendLine($"  body kind: {string.Join("/", route.BodyKinds)}");
            foreach (var (aspect, facets) in route.Aspects())
            {
                foreach (var (name, facet) in facets)
                {
                    text.AppendLine($"  {aspect} {name}: {facet}");
                }
            }
        }
        return text.ToString();
    }

    /// <summary>
    /// Every way <paramref name="ours"/> differs from <paramref name="reference"/>, one readable,
    /// stable line each: <c>{route}: slnodejs only</c>, <c>{route} header x: slnodejs …, ours …</c>.
    /// </summary>
    public static IReadOnlyList<string> Compare(WireSchema reference, WireSchema ours)
    {
        var lines = new List<string>();
        foreach (var key in reference.Routes.Keys.Union(ours.Routes.Keys).Order(StringComparer.Ordinal))
        {
            var a = reference.Routes.GetValueOrDefault(key);
            var b = ours.Routes.GetValueOrDefault(key);
            if (a is null || b is null)
            {
                lines.Add($"{key}: {(a is null ? "ours" : "slnodejs")} only");
                continue;
            }
            var kindsA = string.Join("/", a.BodyKinds);
            var kindsB = string.Join("/", b.BodyKinds);
            if (kindsA != kindsB)
            {
                lines.Add($"{key} body kind: slnodejs {kindsA}, ours {kindsB}");
            }
            var aspectsB = b.Aspects().ToDictionary(x => x.Aspect, x => x.Facets);
            foreach (var (aspect, facetsA) in a.Aspects())
            {
                var facetsB = aspectsB[aspect];
                foreach (var name in facetsA.Keys.Union(facetsB.Keys).Order(StringComparer.Ordinal))
                {
                    var fa = facetsA.GetValueOrDefault(name)?.ToString() ?? "absent";
                    var fb = facetsB.GetValueOrDefault(name)?.ToString() ?? "absent";
                    if (fa != fb)
                    {
                        lines.Add($"{key} {aspect} {name}: slnodejs {fa}, ours {fb}");
                    }
                }
            }
        }
        return lines;
    }

    [GeneratedRegex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    private static partial Regex Guid();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")]
    private static partial Regex IsoTime();
}

/// <summary>The value shapes seen at one place (a query key, a header, a body path) and how often it was there.</summary>
public sealed class Facet
{
    public SortedSet<string> Shapes { get; } = new(StringComparer.Ordinal);

    /// <summary>How many of its parents (requests, objects, arrays) had it.</summary>
    public int Seen { get; set; }

    /// <summary>How many parents there were; set when the route's recording is complete.</summary>
    public int Parents { get; set; }

    public bool Always => Seen == Parents;

    public override string ToString() => $"{string.Join("/", Shapes)} {(Always ? "always" : "sometimes")}";
}

/// <summary>One route's shape, accumulated request by request.</summary>
public sealed class RouteShape
{
    private readonly SortedDictionary<string, Facet> _query = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, Facet> _headers = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, Facet> _body = new(StringComparer.Ordinal);

    // Instances of each object or array path (the parents of the paths below them).
    private readonly Dictionary<string, int> _containers = new(StringComparer.Ordinal);

    public int Requests { get; private set; }

    public SortedSet<string> BodyKinds { get; } = new(StringComparer.Ordinal);

    public IEnumerable<(string Aspect, SortedDictionary<string, Facet> Facets)> Aspects()
    {
        yield return ("query", _query);
        yield return ("header", _headers);
        yield return ("body", _body);
    }

    public void Add(JsonObject record, JsonNode? body, WireVocabulary vocabulary)
    {
        Requests++;
        BodyKinds.Add((string?)record["bodyKind"] ?? "empty");
        foreach (var (name, value) in record["query"]?.AsObject() ?? [])
        {
            Note(_query, name, WireSchema.StringShape((string?)value ?? "", vocabulary));
        }
        foreach (var (name, value) in record["headers"]!.AsObject())
        {
            if (WireVocabulary.TransportHeaders.Contains(name))
            {
                continue;
            }
            var text = (string?)value ?? "";
            Note(_headers, name, WireVocabulary.LiteralHeaders.Contains(name) ? Literal(text, vocabulary) : WireSchema.StringShape(text, vocabulary));
        }
        foreach (var facet in _query.Values.Concat(_headers.Values))
        {
            facet.Parents = Requests;
        }
        if (body is not null)
        {
            Note(_body, "$", WireSchema.ValueShape(body, vocabulary));
            Walk(body, "$", vocabulary);
        }
        _containers["(request)"] = Requests;
        foreach (var (path, facet) in _body)
        {
            facet.Parents = _containers.GetValueOrDefault(Parent(path));
        }
    }

    private static string Literal(string value, WireVocabulary vocabulary) =>
        "\"" + string.Join(" ", value.Split(' ').Select(word => vocabulary.Placeholder(word) ?? word)) + "\"";

    private void Walk(JsonNode node, string path, WireVocabulary vocabulary)
    {
        switch (node)
        {
            case JsonObject obj:
                _containers[path] = _containers.GetValueOrDefault(path) + 1;
                var folded = vocabulary.MapPaths.Contains(path);
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var (key, child) in obj)
                {
                    var childPath = $"{path}.{(folded ? "*" : key)}";
                    var shape = WireSchema.ValueShape(child, vocabulary);
                    Note(_body, childPath, shape, countSeen: seen.Add(childPath));
                    if (child is not null)
                    {
                        Walk(child, childPath, vocabulary);
                    }
                }
                break;
            case JsonArray array:
                _containers[path] = _containers.GetValueOrDefault(path) + 1;
                var first = true;
                foreach (var element in array)
                {
                    Note(_body, path + "[]", WireSchema.ValueShape(element, vocabulary), countSeen: first);
                    first = false;
                    if (element is not null)
                    {
                        Walk(element, path + "[]", vocabulary);
                    }
                }
                break;
        }
    }

    /// <summary>The container a path lives in: <c>$.a.b</c> in <c>$.a</c>, <c>$.a[]</c> in <c>$.a</c>, <c>$</c> in the request.</summary>
    private static string Parent(string path)
    {
        if (path == "$")
        {
            return "(request)";
        }
        if (path.EndsWith("[]", StringComparison.Ordinal))
        {
            return path[..^2];
        }
        return path[..path.LastIndexOf('.')];
    }

    private static void Note(SortedDictionary<string, Facet> facets, string name, string shape, bool countSeen = true)
    {
        if (!facets.TryGetValue(name, out var facet))
        {
            facets[name] = facet = new Facet();
        }
        facet.Shapes.Add(shape);
        if (countSeen)
        {
            facet.Seen++;
        }
    }
}
