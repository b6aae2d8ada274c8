namespace Sealights.Lambda.Emulator.Processes;

/// <summary>What to start: an executable, its full argv (argv[0] included), env and cwd.</summary>
internal sealed record ProcessSpec(
    string Name,
    string ExecutablePath,
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string> Environment,
    string WorkingDirectory);

/// <summary>posix_spawn refused to start a process (missing file, not executable, bad format...).</summary>
internal sealed class SpawnException(string message, int errorNumber) : Exception(message)
{
    public int ErrorNumber { get; } = errorNumber;
}
