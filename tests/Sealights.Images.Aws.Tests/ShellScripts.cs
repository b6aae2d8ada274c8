using Sealights.Images.Testing;

namespace Sealights.Images.Aws.Tests;

/// <summary>Every shell script of the repository: *.sh files and files whose first line is a sh or
/// bash shebang, anywhere but build output (bin/ and obj/ beside a project file), artifacts,
/// node_modules and .git. None left out: the agent layer's own bin/ folder is searched.</summary>
public static class ShellScripts
{
    private static readonly HashSet<string> Skipped = ["artifacts", "node_modules", ".git"];

    public static IReadOnlyList<string> All()
    {
        var scripts = new List<string>();
        Walk(new DirectoryInfo(RepositoryPaths.Root), scripts);
        return scripts.Order(StringComparer.Ordinal).ToList();
    }

    private static void Walk(DirectoryInfo directory, List<string> scripts)
    {
        foreach (var file in directory.EnumerateFiles())
        {
            if (file.Name.EndsWith(".sh", StringComparison.Ordinal) || HasShellShebang(file))
            {
                scripts.Add(Path.GetRelativePath(RepositoryPaths.Root, file.FullName));
            }
        }
        var isProject = directory.EnumerateFiles("*.*proj").Any();
        foreach (var child in directory.EnumerateDirectories().Where(d => !Skipped.Contains(d.Name) && d.LinkTarget is null
            && !(isProject && (d.Name is "bin" or "obj"))))
        {
            Walk(child, scripts);
        }
    }

    private static bool HasShellShebang(FileInfo file)
    {
        if (file.Length < 2)
        {
            return false;
        }
        using var reader = new StreamReader(file.FullName);
        var first = reader.ReadLine() ?? "";
        return first.StartsWith("#!", StringComparison.Ordinal)
            && (first.EndsWith("/sh", StringComparison.Ordinal) || first.EndsWith("bash", StringComparison.Ordinal) || first.Contains("/sh ", StringComparison.Ordinal) || first.Contains("bash ", StringComparison.Ordinal));
    }
}
