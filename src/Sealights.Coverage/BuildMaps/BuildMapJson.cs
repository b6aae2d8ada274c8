using System.Text.Json;

namespace Sealights.Coverage.BuildMaps;

/// <summary>Reads and writes build maps as JSON (camelCase, indented, deterministic order).</summary>
public static class BuildMapJson
{
    /// <summary>Writes <paramref name="map"/> sorted, so equal builds give byte-identical files.</summary>
    /// <param name="stream">The destination; left open.</param>
    /// <param name="map">The map to write.</param>
    public static void Write(Stream stream, BuildMap map)
    {
        using var json = new Utf8JsonWriter(stream, Readable);
        JsonSerializer.Serialize(json, map.Sorted(), BuildMapJsonContext.Default.BuildMap);
    }

    /// <summary>The map as a JSON string.</summary>
    /// <param name="map">The map to write.</param>
    public static string Serialize(BuildMap map)
    {
        using var buffer = new MemoryStream();
        Write(buffer, map);
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    // People read build maps: '<' and '>' of compiler-generated names (<Main>$, <>c) stay as they are, not \u003C.
    private static readonly JsonWriterOptions Readable = new() { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Reads and validates a map.</summary>
    /// <param name="stream">JSON written by <see cref="Write"/>.</param>
    /// <exception cref="BuildMapFormatException">Not valid JSON, a required field is missing, or another format version.</exception>
    public static BuildMap Read(Stream stream)
    {
        BuildMap? map;
        try
        {
            map = JsonSerializer.Deserialize(stream, BuildMapJsonContext.Default.BuildMap);
        }
        catch (JsonException e)
        {
            throw new BuildMapFormatException($"not a valid build map: {e.Message}", e);
        }

        return Validate(map);
    }

    /// <summary>Reads and validates a map from a JSON string.</summary>
    /// <param name="json">JSON written by <see cref="Serialize"/>.</param>
    /// <exception cref="BuildMapFormatException">Not valid JSON, a required field is missing, or another format version.</exception>
    public static BuildMap Deserialize(string json)
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json), writable: false);
        return Read(stream);
    }

    // Checked by hand: net8.0's System.Text.Json does not enforce non-nullable constructor parameters.
    private static BuildMap Validate(BuildMap? map)
    {
        if (map is null)
        {
            throw new BuildMapFormatException("not a valid build map: the document is null.");
        }

        if (map.FormatVersion != BuildMap.CurrentFormatVersion)
        {
            throw new BuildMapFormatException($"unsupported build map formatVersion '{map.FormatVersion}' (expected '{BuildMap.CurrentFormatVersion}').");
        }

        Require(map.GeneratedBy, "generatedBy");
        Require(map.Assemblies, "assemblies");
        foreach (var assembly in map.Assemblies)
        {
            Require(assembly, "assemblies[]");
            Require(assembly.Name, "assemblies[].name");
            Require(assembly.File, "assemblies[].file");
            Require(assembly.Methods, "assemblies[].methods");
            foreach (var method in assembly.Methods)
            {
                Require(method, "methods[]");
                Require(method.Id, "methods[].id");
                Require(method.File, "methods[].file");
            }
        }

        return map;
    }

    private static void Require(object? value, string field)
    {
        if (value is null)
        {
            throw new BuildMapFormatException($"not a valid build map: '{field}' is missing.");
        }
    }
}
