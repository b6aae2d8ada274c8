using System.Globalization;
using Sealights.Lambda.Emulator.Native;

namespace Sealights.Lambda.Emulator.Processes;

/// <summary>
/// The environment's processes as /proc sees them: every live descendant of the emulator
/// (runtime, extensions and whatever they started). Used to freeze, thaw, kill and measure.
/// </summary>
internal static class ProcessTree
{
    private static readonly int Self = System.Environment.ProcessId;

    /// <summary>Live (non-zombie) descendants of <paramref name="root"/>, parents before children.</summary>
    public static List<int> Descendants(int root)
    {
        var children = ReadChildren();
        var result = new List<int>();
        var queue = new Queue<int>();
        queue.Enqueue(root);
        while (queue.Count > 0)
        {
            if (!children.TryGetValue(queue.Dequeue(), out var kids))
            {
                continue;
            }
            foreach (var kid in kids)
            {
                result.Add(kid);
                queue.Enqueue(kid);
            }
        }
        return result;
    }

    /// <summary>
    /// SIGSTOPs the whole environment, parents first (a stopped parent cannot react to its
    /// children stopping). Walks again until nothing new appears: a process may fork mid-walk.
    /// </summary>
    public static int FreezeAll()
    {
        var stopped = new HashSet<int>();
        for (var round = 0; round < 5; round++)
        {
            var added = false;
            foreach (var pid in Descendants(Self))
            {
                if (stopped.Add(pid))
                {
                    _ = LibC.kill(pid, LibC.SIGSTOP);
                    added = true;
                }
            }
            if (!added)
            {
                break;
            }
        }
        return stopped.Count;
    }

    /// <summary>SIGCONTs the whole environment, children first, so parents wake to running children.</summary>
    public static void ThawAll()
    {
        var all = Descendants(Self);
        for (var i = all.Count - 1; i >= 0; i--)
        {
            _ = LibC.kill(all[i], LibC.SIGCONT);
        }
    }

    /// <summary>SIGKILLs a process and everything below it.</summary>
    public static void KillTree(int pid)
    {
        var below = Descendants(pid);
        _ = LibC.kill(pid, LibC.SIGKILL);
        foreach (var child in below)
        {
            _ = LibC.kill(child, LibC.SIGKILL);
        }
    }

    /// <summary>SIGKILLs every descendant of the emulator (orphans included, thanks to the subreaper flag).</summary>
    public static void KillAll()
    {
        for (var round = 0; round < 5; round++)
        {
            var all = Descendants(Self);
            if (all.Count == 0)
            {
                return;
            }
            foreach (var pid in all)
            {
                _ = LibC.kill(pid, LibC.SIGKILL);
            }
        }
    }

    /// <summary>
    /// Sum of VmHWM (each process's peak resident set) over the environment, in KiB. An upper
    /// bound of the environment's true peak: processes peak at different moments.
    /// </summary>
    public static long SumPeakResidentKb()
    {
        long total = 0;
        foreach (var pid in Descendants(Self))
        {
            total += ReadPeakResidentKb(pid);
        }
        return total;
    }

    private static long ReadPeakResidentKb(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    continue;
                }
                var digits = line.AsSpan(6).Trim();
                var end = digits.IndexOf(' ');
                return long.TryParse(end < 0 ? digits : digits[..end], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb) ? kb : 0;
            }
        }
        catch (IOException)
        {
            // The process ended while we looked.
        }
        catch (UnauthorizedAccessException)
        {
        }
        return 0;
    }

    /// <summary>ppid -> live children, from /proc/[pid]/stat (the comm field may hold spaces and parentheses).</summary>
    private static Dictionary<int, List<int>> ReadChildren()
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(directory.AsSpan());
            if (name.Length == 0 || !char.IsAsciiDigit(name[0]) || !int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            var afterComm = stat.LastIndexOf(')');
            if (afterComm < 0 || afterComm + 4 >= stat.Length)
            {
                continue;
            }
            // ") S 1234 ..." : state, then ppid.
            var fields = stat.AsSpan(afterComm + 2);
            var state = fields[0];
            if (state is 'Z' or 'X')
            {
                continue;
            }
            fields = fields[2..];
            var space = fields.IndexOf(' ');
            if (space < 0 || !int.TryParse(fields[..space], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ppid))
            {
                continue;
            }
            if (!children.TryGetValue(ppid, out var list))
            {
                children[ppid] = list = [];
            }
            list.Add(pid);
        }
        return children;
    }
}
