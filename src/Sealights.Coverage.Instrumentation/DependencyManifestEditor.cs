using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sealights.Coverage.Instrumentation;

/// <summary>
/// Adds the Probes library to an application's <c>*.deps.json</c>: the host builds the trusted
/// assembly list from it (the Lambda runtime runs the function under it and does not probe the
/// task root), so a reference to an assembly it does not list fails to load.
/// </summary>
internal static class DependencyManifestEditor
{
    /// <summary>Adds the library unless some version of it is listed; true when the file changed.</summary>
    public static bool AddProbes(string depsJsonPath, ProbesAssembly probes)
    {
        var text = File.ReadAllText(depsJsonPath);
        var root = JsonNode.Parse(text)?.AsObject() ?? throw new InstrumentationException($"{depsJsonPath} is not a JSON object");
        var libraries = Object(root, "libraries", depsJsonPath);
        if (libraries.Any(l => l.Key.StartsWith(ProbesAssembly.Name + "/", StringComparison.OrdinalIgnoreCase)))
        {
            return false;
        }

        var targetName = root["runtimeTarget"]?["name"]?.GetValue<string>()
            ?? throw new InstrumentationException($"{depsJsonPath} names no runtimeTarget");
        var target = Object(Object(root, "targets", depsJsonPath), targetName, depsJsonPath);
        var key = $"{ProbesAssembly.Name}/{probes.Version.ToString(3)}";
        var asset = new JsonObject { ["assemblyVersion"] = probes.Version.ToString() };
        if (FileVersionInfo.GetVersionInfo(probes.Path).FileVersion is { Length: > 0 } fileVersion)
        {
            asset["fileVersion"] = fileVersion;
        }

        // A project-type library: its runtime asset sits in the app folder, and Sealights.Coverage's
        // application-assembly rule keeps project files (it has no PDB there, so scan never maps it).
        target[key] = new JsonObject { ["runtime"] = new JsonObject { [ProbesAssembly.FileName] = asset } };
        libraries[key] = new JsonObject { ["type"] = "project", ["serviceable"] = false, ["sha512"] = string.Empty };
        WriteIfChanged(depsJsonPath, text, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return true;
    }

    public static void WriteIfChanged(string path, string current, string updated)
    {
        if (current != updated)
        {
            var temporary = path + ".sl-instrument.tmp";
            File.WriteAllText(temporary, updated);
            File.Move(temporary, path, overwrite: true);
        }
    }

    private static JsonObject Object(JsonObject parent, string name, string path) =>
        parent[name] as JsonObject ?? throw new InstrumentationException($"{path} has no '{name}' object");
}
