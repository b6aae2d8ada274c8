using System.IO.Compression;
using System.Text.Json;

namespace Sealights.Images.Aws.Tests;

/// <summary>
/// The CloudFormation resource specification of npm's <c>@aws-cdk/aws-service-spec</c> (its
/// <c>db.json.gz</c>): resource types with their properties (type, required, allowed values) and
/// attributes, and the property types they refer to by id.
/// </summary>
public sealed class ResourceSpec
{
    private static readonly Lazy<ResourceSpec> Installed = new(() => Load(AwsTools.ServiceSpecDatabase()));

    private readonly Dictionary<string, JsonElement> _resources;
    private readonly Dictionary<string, JsonElement> _types;

    private ResourceSpec(Dictionary<string, JsonElement> resources, Dictionary<string, JsonElement> types)
    {
        _resources = resources;
        _types = types;
    }

    /// <summary>The specification of the pinned package, installed by scripts/aws-tools.sh.</summary>
    public static ResourceSpec Current => Installed.Value;

    public int ResourceCount => _resources.Count;

    public static ResourceSpec Load(string databaseGz)
    {
        using var file = File.OpenRead(databaseGz);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var document = JsonDocument.Parse(gzip);
        var schema = document.RootElement.GetProperty("schema");
        var resources = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var resource in schema.GetProperty("resource").GetProperty("entities").EnumerateArray())
        {
            resources[resource.GetProperty("cloudFormationType").GetString()!] = resource.Clone();
        }
        var types = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var type in schema.GetProperty("typeDefinition").GetProperty("entities").EnumerateArray())
        {
            types[type.GetProperty("$id").GetString()!] = type.Clone();
        }
        return new ResourceSpec(resources, types);
    }

    public bool TryGetResource(string cloudFormationType, out JsonElement resource) =>
        _resources.TryGetValue(cloudFormationType, out resource);

    public JsonElement TypeDefinition(string id) =>
        _types.TryGetValue(id, out var type) ? type : throw new KeyNotFoundException($"type definition {id} is not in the specification");

    /// <summary>The names of a resource type's Fn::GetAtt attributes.</summary>
    public IReadOnlySet<string> Attributes(JsonElement resource) =>
        resource.TryGetProperty("attributes", out var attributes)
            ? attributes.EnumerateObject().Select(a => a.Name).ToHashSet(StringComparer.Ordinal)
            : new HashSet<string>();
}
