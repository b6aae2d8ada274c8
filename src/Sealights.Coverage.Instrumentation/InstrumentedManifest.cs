using System.Text;
using System.Text.Json;

namespace Sealights.Coverage.Instrumentation;

/// <summary>
/// <c>sealights-instrumented.json</c> in the publish folder: which assemblies carry probes
/// (README of Sealights.Coverage.Probes). Its presence tells the exec wrapper not to turn inlining off.
/// </summary>
public static class InstrumentedManifest
{
    /// <summary>The file's name.</summary>
    public const string FileName = "sealights-instrumented.json";

    /// <summary>Writes the manifest for the instrumented assemblies (sorted by file); true when the file changed.</summary>
    public static bool Write(string directory, IEnumerable<InstrumentationResult> assemblies)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("version", 1);
            json.WriteStartArray("assemblies");
            foreach (var assembly in assemblies.OrderBy(a => Path.GetFileName(a.File), StringComparer.Ordinal))
            {
                json.WriteStartObject();
                json.WriteString("name", assembly.AssemblyName);
                json.WriteString("file", Path.GetFileName(assembly.File));
                json.WriteString("mvid", assembly.Mvid.ToString("D"));
                json.WriteNumber("methods", assembly.Methods);
                json.WriteNumber("probes", assembly.Probes);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        var text = Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
        var path = Path.Combine(directory, FileName);
        var current = File.Exists(path) ? File.ReadAllText(path) : null;
        if (current == text)
        {
            return false;
        }

        DependencyManifestEditor.WriteIfChanged(path, current ?? string.Empty, text);
        return true;
    }
}
