namespace Sealights.Images.Testing;

/// <summary>Where things are in the repository checkout the tests run from.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Artifacts => Path.Combine(Root, "artifacts");

    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sealights.Images.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"Sealights.Images.sln not found above {AppContext.BaseDirectory}");
    }
}
