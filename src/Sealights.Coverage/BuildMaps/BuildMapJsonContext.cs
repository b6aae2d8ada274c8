using System.Text.Json.Serialization;

namespace Sealights.Coverage.BuildMaps;

// Source-generated so the NativeAOT agent and a trimmed CLI serialize without reflection.
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true)]
[JsonSerializable(typeof(BuildMap))]
internal sealed partial class BuildMapJsonContext : JsonSerializerContext
{
}
