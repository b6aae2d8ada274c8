using Sealights.Coverage.BuildMaps;

namespace Sealights.Images.Cli.Tests;

/// <summary>Small build maps in the format <c>sl-images scan</c> writes, for the report and collector tests.</summary>
public static class BuildMaps
{
    public static string Json(params (string Assembly, string File, (string Id, string SourceFile, int Start, int End)[] Methods)[] assemblies) =>
        BuildMapJson.Serialize(new BuildMap(
            BuildMap.CurrentFormatVersion,
            "tests",
            assemblies.Select(a => new BuildMapAssembly(a.Assembly, Guid.NewGuid(), a.File, a.Methods.Select(m => new BuildMapMethod(m.Id, m.SourceFile, m.Start, m.End)).ToList())).ToList()));
}
