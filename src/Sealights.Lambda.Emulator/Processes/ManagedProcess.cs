using Sealights.Lambda.Emulator.Native;

namespace Sealights.Lambda.Emulator.Processes;

/// <summary>A child the supervisor started: its pid and a task that completes when it is reaped.</summary>
internal sealed class ManagedProcess
{
    private readonly TaskCompletionSource<ExitStatus> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ManagedProcess(int pid, string name)
    {
        Pid = pid;
        Name = name;
    }

    public int Pid { get; }

    public string Name { get; }

    public Task<ExitStatus> Exited => _exited.Task;

    public bool HasExited => _exited.Task.IsCompleted;

    internal void SetExited(ExitStatus status) => _exited.TrySetResult(status);

    /// <summary>Sends a signal unless the process is already gone (a reaped pid could be reused).</summary>
    public void Signal(int signal)
    {
        if (!HasExited)
        {
            _ = LibC.kill(Pid, signal);
        }
    }

    /// <summary>
    /// Sends a signal to the process group the supervisor made for this process (its pgid is its
    /// pid), unless the process is already gone.
    /// </summary>
    public void SignalGroup(int signal)
    {
        if (!HasExited)
        {
            _ = LibC.kill(-Pid, signal);
        }
    }

    /// <summary>Waits for the exit up to <paramref name="timeout"/>; true when it exited.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        if (HasExited)
        {
            return true;
        }
        var finished = await Task.WhenAny(Exited, Task.Delay(timeout)).ConfigureAwait(false);
        return finished == Exited;
    }
}
