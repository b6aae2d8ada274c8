using System.Diagnostics;
using System.Globalization;

namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>
/// When the agent reached <c>main</c>, was listening and (when it registers itself) registered,
/// counted from when the launcher started it (the launcher passes bash's <c>$EPOCHREALTIME</c> as
/// <c>--launched-at</c>; the kernel's process start time only has 10 ms resolution). Logged once,
/// after registering: nothing is formatted on the way there.
/// </summary>
public sealed class StartupTimeline
{
    private readonly DateTime? _launchedAtUtc;
    private readonly long _created = Stopwatch.GetTimestamp();
    private readonly DateTime _createdUtc = DateTime.UtcNow;
    private long _listening;
    private long _registered;

    private StartupTimeline(DateTime? launchedAtUtc)
    {
        _launchedAtUtc = launchedAtUtc;
    }

    /// <summary>Reads <c>--launched-at &lt;unix seconds&gt;</c> from the command line.</summary>
    public static StartupTimeline FromArguments(string[] args)
    {
        var index = Array.IndexOf(args, "--launched-at");
        DateTime? launchedAt = null;
        if (index >= 0 && index + 1 < args.Length
            // $EPOCHREALTIME uses the locale's decimal separator.
            && double.TryParse(args[index + 1].Replace(',', '.'), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            launchedAt = DateTime.UnixEpoch.AddTicks((long)(seconds * TimeSpan.TicksPerSecond));
        }

        return new StartupTimeline(launchedAt);
    }

    public void Listening() => _listening = Stopwatch.GetTimestamp();

    public void Registered() => _registered = Stopwatch.GetTimestamp();

    /// <summary>
    /// E.g. "in main 4.2 ms, listening 6.1 ms and registered 7.4 ms after the launcher started", or
    /// without the registration when the launcher registered (in parallel with the agent's start).
    /// </summary>
    public string Describe()
    {
        var (origin, what) = _launchedAtUtc is { } launched
            ? (_createdUtc - launched, "the launcher started")
            : (_createdUtc - Process.GetCurrentProcess().StartTime.ToUniversalTime(), "the process started");
        string Since(long mark) => (origin + Stopwatch.GetElapsedTime(_created, mark)).TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture);
        return _registered == 0
            ? $"in main {Since(_created)} ms and listening {Since(_listening)} ms after {what}, which registered the extension"
            : $"in main {Since(_created)} ms, listening {Since(_listening)} ms and registered {Since(_registered)} ms after {what}";
    }
}
