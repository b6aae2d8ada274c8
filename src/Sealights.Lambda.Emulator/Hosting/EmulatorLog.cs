using System.Globalization;
using System.Text;

namespace Sealights.Lambda.Emulator.Hosting;

internal enum LogLevel
{
    Debug,
    Info,
    Warn,
    Error,
}

/// <summary>
/// The emulator's two outputs. Platform lines (START, END, REPORT, INIT_REPORT and the error
/// lines Lambda prints) go to stdout, like Lambda's; diagnostics go to stderr. Each line is one
/// write(2), so it does not interleave with the output of the children, who share both fds.
/// </summary>
internal sealed class EmulatorLog
{
    private readonly object _gate = new();
    private readonly Stream _stdout = Console.OpenStandardOutput();
    private readonly Stream _stderr = Console.OpenStandardError();

    public EmulatorLog(LogLevel minimum)
    {
        Minimum = minimum;
    }

    public LogLevel Minimum { get; set; }

    public void Platform(string line) => Write(_stdout, line);

    public void Debug(string message) => Diagnostic(LogLevel.Debug, "DEBUG", message);

    public void Info(string message) => Diagnostic(LogLevel.Info, "INFO", message);

    public void Warn(string message) => Diagnostic(LogLevel.Warn, "WARNING", message);

    public void Error(string message) => Diagnostic(LogLevel.Error, "ERROR", message);

    /// <summary>Accepts the names RIE accepts for --log-level / LOG_LEVEL.</summary>
    public static LogLevel? ParseLevel(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "trace" or "debug" => LogLevel.Debug,
        "info" => LogLevel.Info,
        "warn" or "warning" => LogLevel.Warn,
        "error" or "fatal" or "panic" => LogLevel.Error,
        _ => null,
    };

    private void Diagnostic(LogLevel level, string label, string message)
    {
        if (level < Minimum)
        {
            return;
        }
        var time = DateTime.UtcNow.ToString("dd MMM yyyy HH:mm:ss,fff", CultureInfo.InvariantCulture);
        Write(_stderr, $"{time} [{label}] (rie) {message}");
    }

    private void Write(Stream stream, string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        lock (_gate)
        {
            try
            {
                stream.Write(bytes);
                stream.Flush();
            }
            catch (IOException)
            {
                // Nobody reads our output any more; keep running.
            }
        }
    }
}
