using System.Text.Json.Nodes;
using Sealights.Coverage.BuildMaps;

namespace Sealights.Coverage.Tests;

/// <summary>
/// A build map that lacks any field the format requires is refused naming that field (a map
/// read with a null in it would fail later, far from the file); and maps are written in the
/// format's order (assemblies by name then file, methods by id, all ordinal) whatever order
/// they were built in.
/// </summary>
public class BuildMapValidationTests
{
    private const string Valid = """
        {"formatVersion":"1","generatedBy":"x","assemblies":[
          {"name":"a","mvid":"11111111-2222-3333-4444-555555555555","file":"a.dll","methods":[
            {"id":"a|T|M()","file":"f.cs","startLine":1,"endLine":2}]}]}
        """;

    [Fact]
    public void The_valid_map_the_others_break_is_read()
    {
        var map = BuildMapJson.Deserialize(Valid);

        var method = Assert.Single(Assert.Single(map.Assemblies).Methods);
        Assert.Equal(("a|T|M()", "f.cs", 1, 2), (method.Id, method.File, method.StartLine, method.EndLine));
    }

    [Theory]
    [InlineData("generatedBy", "generatedBy")]
    [InlineData("assemblies", "assemblies")]
    [InlineData("assemblies.0", "assemblies[]")]
    [InlineData("assemblies.0.name", "assemblies[].name")]
    [InlineData("assemblies.0.file", "assemblies[].file")]
    [InlineData("assemblies.0.methods", "assemblies[].methods")]
    [InlineData("assemblies.0.methods.0", "methods[]")]
    [InlineData("assemblies.0.methods.0.id", "methods[].id")]
    [InlineData("assemblies.0.methods.0.file", "methods[].file")]
    public void A_missing_or_null_field_is_refused_by_name(string path, string field)
    {
        foreach (var json in new[] { Remove(path), Nullify(path) })
        {
            var refused = Assert.Throws<BuildMapFormatException>(() => BuildMapJson.Deserialize(json));

            Assert.Equal($"not a valid build map: '{field}' is missing.", refused.Message);
        }
    }

    [Fact]
    public void A_null_document_and_another_version_are_refused_with_their_reason()
    {
        Assert.Equal("not a valid build map: the document is null.", Assert.Throws<BuildMapFormatException>(() => BuildMapJson.Deserialize("null")).Message);
        Assert.Equal(
            "unsupported build map formatVersion '2' (expected '1').",
            Assert.Throws<BuildMapFormatException>(() => BuildMapJson.Deserialize(Valid.Replace("\"formatVersion\":\"1\"", "\"formatVersion\":\"2\""))).Message);
    }

    [Fact]
    public void Invalid_json_is_refused_with_the_parsers_reason_inside()
    {
        var refused = Assert.Throws<BuildMapFormatException>(() => BuildMapJson.Read(new MemoryStream("{\"formatVersion\":"u8.ToArray())));

        Assert.StartsWith("not a valid build map: ", refused.Message);
        Assert.IsAssignableFrom<System.Text.Json.JsonException>(refused.InnerException);
    }

    [Fact]
    public void Assemblies_of_one_name_are_ordered_by_file_and_names_ordinally()
    {
        var mvid = Guid.NewGuid();
        var map = new BuildMap("1", "test",
        [
            new BuildMapAssembly("a", mvid, "z.dll", []),
            new BuildMapAssembly("a", mvid, "B.dll", []),
            new BuildMapAssembly("a", mvid, "b.dll", []),
            new BuildMapAssembly("B", mvid, "a.dll", []),
        ]);

        foreach (var written in new[] { BuildMapJson.Serialize(map), Written(map) })
        {
            Assert.Equal(["B/a.dll", "a/B.dll", "a/b.dll", "a/z.dll"], BuildMapJson.Deserialize(written).Assemblies.Select(a => a.Name + "/" + a.File));
        }

        Assert.Equal(["B/a.dll", "a/B.dll", "a/b.dll", "a/z.dll"], map.Sorted().Assemblies.Select(a => a.Name + "/" + a.File));
    }

    [Fact]
    public void A_map_created_from_catalogs_is_in_the_formats_order()
    {
        var map = BuildMap.Create("sl-images test", [Fixture.Catalog, Fixture.Catalog]);

        Assert.Equal("1", map.FormatVersion);
        Assert.Equal("sl-images test", map.GeneratedBy);
        Assert.Equal(2, map.Assemblies.Count);
        var ids = map.Assemblies[0].Methods.Select(m => m.Id).ToList();
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        Assert.Equal(Fixture.Catalog.Methods.Count, ids.Count);
        var first = Fixture.Catalog.Methods[0];
        var written = map.Assemblies[0].Methods.Single(m => m.Id == first.Identity.Id);
        Assert.Equal((first.SourceFile, first.StartLine, first.EndLine), (written.File, written.StartLine, written.EndLine));
    }

    private static string Written(BuildMap map)
    {
        using var stream = new MemoryStream();
        BuildMapJson.Write(stream, map);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string Remove(string path) => Edit(path, (parent, key) =>
    {
        if (parent is JsonArray array)
        {
            // An array element cannot be left out; a null element stands for it.
            array[int.Parse(key)] = null;
        }
        else
        {
            parent.AsObject().Remove(key);
        }
    });

    private static string Nullify(string path) => Edit(path, (parent, key) =>
    {
        if (parent is JsonArray array)
        {
            array[int.Parse(key)] = null;
        }
        else
        {
            parent[key] = null;
        }
    });

    private static string Edit(string path, Action<JsonNode, string> edit)
    {
        var root = JsonNode.Parse(Valid)!;
        var parts = path.Split('.');
        var parent = parts[..^1].Aggregate(root, (node, part) => node is JsonArray array ? array[int.Parse(part)]! : node[part]!);
        edit(parent, parts[^1]);
        return root.ToJsonString();
    }
}
