using Sealights.Coverage.BuildMaps;

namespace Sealights.Images.Cli.Commands;

/// <summary>Reads a build map given with <c>--build-map</c>, or says in one line why it cannot.</summary>
internal static class BuildMapFile
{
    public static BuildMap? Read(string verb, FileInfo file, TextWriter stderr)
    {
        if (!file.Exists)
        {
            stderr.WriteLine($"sl-images {verb}: --build-map {file.FullName}: no such file (write one with: sl-images scan PUBLISHDIR -o buildmap.json)");
            return null;
        }
        try
        {
            using var stream = file.OpenRead();
            return BuildMapJson.Read(stream);
        }
        catch (BuildMapFormatException e)
        {
            stderr.WriteLine($"sl-images {verb}: --build-map {file.FullName}: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"sl-images {verb}: --build-map {file.FullName}: cannot read it ({e.Message})");
        }
        return null;
    }
}
