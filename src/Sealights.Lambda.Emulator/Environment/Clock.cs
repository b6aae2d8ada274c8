using System.Diagnostics;

namespace Sealights.Lambda.Emulator.Environment;

/// <summary>High-resolution monotonic timestamps for durations; wall-clock epoch ms for deadlines.</summary>
internal static class Clock
{
    public static long Now => Stopwatch.GetTimestamp();

    public static long EpochMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public static double Milliseconds(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

    public static long After(long from, TimeSpan span) => from + (long)(span.TotalSeconds * Stopwatch.Frequency);

    public static TimeSpan Until(long deadline)
    {
        var remaining = deadline - Now;
        return remaining <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency);
    }

    /// <summary>RFC 3339 UTC with milliseconds, as Lambda writes times.</summary>
    public static string Rfc3339(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
