using System.Text.Json;

namespace Sealights.Coverage;

/// <summary>
/// What the app's <c>*.deps.json</c> says about where each assembly file came from. NuGet
/// packages increasingly embed their PDBs, so "has a PDB" alone would count third-party
/// libraries as application code; the manifest tells a project output from a package.
/// </summary>
internal sealed class DependencyManifest
{
    private static readonly DependencyManifest Empty = new(new Dictionary<string, string>());

    // Assembly file name → "Library/Version" of a non-project library that ships it.
    private readonly Dictionary<string, string> _nonProjectFiles;

    private DependencyManifest(Dictionary<string, string> nonProjectFiles)
    {
        _nonProjectFiles = nonProjectFiles;
    }

    /// <summary>Every <c>*.deps.json</c> in <paramref name="directory"/>; unreadable ones are ignored (the rule falls back to PDB and name).</summary>
    public static DependencyManifest Load(string directory)
    {
        string[] manifests;
        try
        {
            manifests = Directory.GetFiles(directory, "*.deps.json");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return Empty;
        }

        var files = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var manifest in manifests)
        {
            try
            {
                using var stream = File.OpenRead(manifest);
                using var document = JsonDocument.Parse(stream);
                AddNonProjectFiles(document.RootElement, files);
            }
            catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException or KeyNotFoundException)
            {
                // A broken manifest only loses the refinement, never the scan.
            }
        }

        return new DependencyManifest(files);
    }

    /// <summary>True when the file is a runtime asset of a package (or runtime pack), not of a project.</summary>
    public bool TryGetPackage(string assemblyPath, out string library) =>
        _nonProjectFiles.TryGetValue(Path.GetFileName(assemblyPath), out library!);

    private static void AddNonProjectFiles(JsonElement root, Dictionary<string, string> files)
    {
        if (!root.TryGetProperty("targets", out var targets) || !root.TryGetProperty("libraries", out var libraries))
        {
            return;
        }

        foreach (var target in targets.EnumerateObject())
        {
            foreach (var library in target.Value.EnumerateObject())
            {
                if (IsProject(libraries, library.Name) || !library.Value.TryGetProperty("runtime", out var runtime))
                {
                    continue;
                }

                foreach (var asset in runtime.EnumerateObject())
                {
                    files.TryAdd(Path.GetFileName(asset.Name), library.Name);
                }
            }
        }
    }

    private static bool IsProject(JsonElement libraries, string library) =>
        libraries.TryGetProperty(library, out var entry)
        && entry.TryGetProperty("type", out var type)
        && type.ValueEquals("project");
}
