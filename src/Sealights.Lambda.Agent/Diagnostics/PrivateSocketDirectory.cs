namespace Sealights.Lambda.Agent.Diagnostics;

/// <summary>
/// The folder that holds the diagnostic socket. The socket is a command channel into the
/// function's runtime (it can start traces, dumps, profilers), so only the agent's user may
/// reach it: the folder is 0700 and never a symlink that someone else could have planted.
/// </summary>
internal static class PrivateSocketDirectory
{
    /// <summary>A Unix socket path (sun_path) holds 108 bytes including the terminating NUL.</summary>
    public const int MaxSocketPathBytes = 107;

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates <paramref name="directory"/> (and missing parents) owner-only, or tightens an existing one.</summary>
    /// <exception cref="IOException">The path is a symlink or not a directory.</exception>
    public static string Create(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the agent listens on a Unix socket (Lambda runs Linux)");
        }

        var full = Path.GetFullPath(directory);
        var info = new DirectoryInfo(full);
        if (info.LinkTarget is not null)
        {
            throw new IOException($"{full} is a symlink; the socket folder must be a real directory");
        }

        if (info.Exists)
        {
            File.SetUnixFileMode(full, OwnerOnly);
        }
        else if (File.Exists(full))
        {
            throw new IOException($"{full} is a file, not a directory");
        }
        else
        {
            // The mode also applies to parents it creates (e.g. /tmp/.sealights).
            Directory.CreateDirectory(full, OwnerOnly);
        }

        return full;
    }

    /// <summary>The socket's path in <paramref name="directory"/>; throws when too long for a Unix socket.</summary>
    public static string SocketPath(string directory, string fileName)
    {
        var path = Path.Combine(directory, fileName);
        if (System.Text.Encoding.UTF8.GetByteCount(path) > MaxSocketPathBytes)
        {
            throw new PathTooLongException($"{path} is longer than a Unix socket path may be ({MaxSocketPathBytes} bytes)");
        }

        return path;
    }

    /// <summary>Removes the folder if it is empty; leaves anything else alone.</summary>
    public static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any())
            {
                Directory.Delete(directory);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
