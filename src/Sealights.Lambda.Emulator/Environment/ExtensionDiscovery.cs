namespace Sealights.Lambda.Emulator.Environment;

/// <summary>The external extensions: executable regular files in the extensions directory, by name.</summary>
internal static class ExtensionDiscovery
{
    private const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    public static IReadOnlyList<string> Find(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }
        return Directory.EnumerateFiles(directory)
            .Where(IsExecutableFile)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static bool IsExecutableFile(string path)
    {
        try
        {
            // File.GetUnixFileMode follows symbolic links, like exec does.
            return File.Exists(path) && (File.GetUnixFileMode(path) & AnyExecute) != 0;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
