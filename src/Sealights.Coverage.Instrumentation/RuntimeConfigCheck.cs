using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sealights.Coverage.Instrumentation;

/// <summary>
/// Refuses an application whose <c>*.runtimeconfig.json</c> turns EventSources off
/// (<c>EventSourceSupport=false</c>, the default of trimmed apps): the Probes library reports hits
/// through an EventSource, which would then be silently inert and every hit lost.
/// </summary>
internal static class RuntimeConfigCheck
{
    private const string Switch = "System.Diagnostics.Tracing.EventSource.IsSupported";

    /// <summary>Why the folder must not be instrumented; null when EventSources work.</summary>
    public static string? Problem(string directory)
    {
        foreach (var path in Directory.EnumerateFiles(directory, "*.runtimeconfig.json").Order(StringComparer.Ordinal))
        {
            JsonNode? value;
            try
            {
                value = JsonNode.Parse(File.ReadAllText(path))?["runtimeOptions"]?["configProperties"]?[Switch];
            }
            catch (JsonException e)
            {
                return $"{Path.GetFileName(path)} is not valid JSON ({e.Message})";
            }

            if (value is JsonValue v && (v.TryGetValue<bool>(out var on) ? !on : string.Equals(v.ToString(), "false", StringComparison.OrdinalIgnoreCase)))
            {
                return $"{Path.GetFileName(path)} sets {Switch}=false (EventSourceSupport=false, the default of trimmed apps): "
                    + "every EventSource is off, so probe hits could never be read. Publish with <EventSourceSupport>true</EventSourceSupport> "
                    + "(or -p:EventSourceSupport=true) and instrument again";
            }
        }

        return null;
    }
}
