namespace Sealights.Lambda.Agent.Diagnostics;

/// <summary>
/// What a process has mapped, from <c>/proc/&lt;pid&gt;/maps</c>. The runtime maps every assembly
/// it loads before any of its code runs, so a folder with nothing mapped from it has had none of
/// its code run yet.
/// </summary>
internal static class ProcessMaps
{
    /// <summary>
    /// Whether .NET runtime process <paramref name="processId"/> has mapped a file under
    /// <paramref name="directoryPrefix"/> (a folder path ending with a separator). Null when that
    /// cannot be told: the process is gone, not readable, or not a .NET runtime.
    /// </summary>
    public static bool? HasMappedFileUnder(int processId, string directoryPrefix)
    {
        try
        {
            var runtime = false;
            foreach (var line in File.ReadLines($"/proc/{processId}/maps"))
            {
                // address perms offset dev inode [path]: the path starts at the first '/'.
                var slash = line.IndexOf('/');
                if (slash < 0)
                {
                    continue;
                }

                var path = line.AsSpan(slash);
                if (path.StartsWith(directoryPrefix, StringComparison.Ordinal))
                {
                    return true;
                }

                runtime |= path.EndsWith("/libcoreclr.so", StringComparison.Ordinal);
            }

            return runtime ? false : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
