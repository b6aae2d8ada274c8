namespace Sealights.Lambda.Emulator.Processes;

/// <summary>How a child process ended, decoded from a waitpid status word.</summary>
internal readonly record struct ExitStatus(int? Code, int? Signal)
{
    public static ExitStatus FromWaitStatus(int status)
    {
        var termSignal = status & 0x7f;
        return termSignal == 0
            ? new ExitStatus((status >> 8) & 0xff, null)
            : new ExitStatus(null, termSignal);
    }

    /// <summary>Lambda's wording (it comes from Go): "exit status 1", "signal: killed".</summary>
    public override string ToString() => Code is { } code ? $"exit status {code}" : $"signal: {SignalName(Signal ?? 0)}";

    private static string SignalName(int signal) => signal switch
    {
        1 => "hangup",
        2 => "interrupt",
        3 => "quit",
        4 => "illegal instruction",
        6 => "aborted",
        7 => "bus error",
        8 => "floating point exception",
        9 => "killed",
        11 => "segmentation fault",
        13 => "broken pipe",
        14 => "alarm clock",
        15 => "terminated",
        _ => $"signal {signal}",
    };
}
