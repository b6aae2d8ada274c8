using System.Text.Json;
using Sealights.Coverage.BuildMaps;

namespace Sealights.Coverage.Tests;

public class BuildMapJsonTests
{
    private static readonly Guid MvidA = Guid.Parse("11111111-2222-3333-4444-555555555555");

    [Fact]
    public void Writes_the_documented_shape()
    {
        var map = new BuildMap("1", "sl-images 0.1.0",
        [
            new BuildMapAssembly("App", MvidA, "App.dll", [new BuildMapMethod("App|Ns.T|M()", "/src/T.cs", 3, 5)]),
        ]);

        using var json = JsonDocument.Parse(BuildMapJson.Serialize(map));
        var root = json.RootElement;

        Assert.Equal("1", root.GetProperty("formatVersion").GetString());
        Assert.Equal("sl-images 0.1.0", root.GetProperty("generatedBy").GetString());
        var assembly = root.GetProperty("assemblies")[0];
        Assert.Equal("App", assembly.GetProperty("name").GetString());
        Assert.Equal("11111111-2222-3333-4444-555555555555", assembly.GetProperty("mvid").GetString());
        Assert.Equal("App.dll", assembly.GetProperty("file").GetString());
        var method = assembly.GetProperty("methods")[0];
        Assert.Equal("App|Ns.T|M()", method.GetProperty("id").GetString());
        Assert.Equal("/src/T.cs", method.GetProperty("file").GetString());
        Assert.Equal(3, method.GetProperty("startLine").GetInt32());
        Assert.Equal(5, method.GetProperty("endLine").GetInt32());
    }

    [Fact]
    public void Compiler_generated_names_are_written_as_people_read_them()
    {
        var map = new BuildMap("1", "test",
        [
            new BuildMapAssembly("App", MvidA, "App.dll", [new BuildMapMethod("App|Program|<Main>$(System.String[])", "/src/Program.cs", 1, 9)]),
        ]);

        var text = BuildMapJson.Serialize(map);

        Assert.Contains("\"App|Program|<Main>$(System.String[])\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u003C", text, StringComparison.Ordinal);
        Assert.Equal("App|Program|<Main>$(System.String[])", BuildMapJson.Deserialize(text).Assemblies[0].Methods[0].Id);
    }

    [Fact]
    public void Sorts_assemblies_and_methods_ordinally()
    {
        var map = new BuildMap("1", "test",
        [
            new BuildMapAssembly("b", MvidA, "b.dll", []),
            new BuildMapAssembly("a", MvidA, "a.dll",
            [
                new BuildMapMethod("a|T|b()", "f", 1, 1),
                new BuildMapMethod("a|T|B()", "f", 1, 1),
                new BuildMapMethod("a|T|a()", "f", 1, 1),
            ]),
        ]);

        var read = BuildMapJson.Deserialize(BuildMapJson.Serialize(map));

        Assert.Equal(["a", "b"], read.Assemblies.Select(a => a.Name));
        Assert.Equal(["a|T|B()", "a|T|a()", "a|T|b()"], read.Assemblies[0].Methods.Select(m => m.Id));
    }

    [Fact]
    public void Round_trips_a_map_of_the_fixture_byte_for_byte()
    {
        var map = BuildMap.Create("sl-images test", [Fixture.Catalog]);
        using var first = new MemoryStream();
        BuildMapJson.Write(first, map);

        first.Position = 0;
        var read = BuildMapJson.Read(first);
        using var second = new MemoryStream();
        BuildMapJson.Write(second, read);

        Assert.Equal(first.ToArray(), second.ToArray());
        var assembly = Assert.Single(read.Assemblies);
        Assert.Equal(Fixture.AssemblyName, assembly.Name);
        Assert.Equal(Fixture.AssemblyName + ".dll", assembly.File);
        Assert.Equal(Fixture.Catalog.Mvid, assembly.Mvid);
        Assert.Equal(Fixture.Catalog.Methods.Select(m => m.Identity.Id), assembly.Methods.Select(m => m.Id));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("null")]
    [InlineData("""{"formatVersion":"2","generatedBy":"x","assemblies":[]}""")]
    [InlineData("""{"generatedBy":"x","assemblies":[]}""")]
    [InlineData("""{"formatVersion":"1","assemblies":[]}""")]
    [InlineData("""{"formatVersion":"1","generatedBy":"x"}""")]
    [InlineData("""{"formatVersion":"1","generatedBy":"x","assemblies":[{"name":"a","mvid":"11111111-2222-3333-4444-555555555555","file":"a.dll","methods":[{"file":"f","startLine":1,"endLine":1}]}]}""")]
    [InlineData("""{"formatVersion":"1","generatedBy":"x","assemblies":[{"name":"a","mvid":"not-a-guid","file":"a.dll","methods":[]}]}""")]
    public void Rejects_what_is_not_a_version_1_build_map(string json)
    {
        Assert.Throws<BuildMapFormatException>(() => BuildMapJson.Deserialize(json));
    }
}
