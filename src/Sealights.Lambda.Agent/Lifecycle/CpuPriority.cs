using System.Runtime.InteropServices;

namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>
/// Keeps the agent's CPU use behind the function's. Lambda gives a function a share of a CPU
/// (one vCPU at 1,769 MB, less below), and during a cold start the agent's work (a NativeAOT
/// runtime calibrating its spin-waits, the telemetry subscription, reading the runtime's trace)
/// would otherwise take turns with the function's own start. The agent's start up to its
/// registration (its verdict, listening, and registering or taking the launcher's registration)
/// is what the runtime may wait for, so it runs at normal priority; everything after it is
/// background work and runs niced.
/// <para>
/// On Linux a nice value belongs to a thread, and a new thread inherits its creator's; so each
/// thread that exists is lowered, and those created later start low. Lowering needs no
/// privilege, and raising it again would, so this only ever goes down.
/// </para>
/// </summary>
internal static partial class CpuPriority
{
    /// <summary>The agent's work once registered: about a tenth of the function's share when both want the CPU.</summary>
    public const int Background = 10;

    /// <summary>
    /// The runtime's own threads while the agent starts: NativeAOT's finalizer thread spins for
    /// 10 ms at start-up to calibrate spin-waits, which is only worth idle CPU.
    /// </summary>
    public const int Idle = 19;

    private const int PriorityProcess = 0; // PRIO_PROCESS: with a thread id, that one thread
    private const int Esrch = 3;

    /// <summary>Lowers every thread of this process except the calling one (the start-up thread) to <paramref name="nice"/> (those already lower stay so).</summary>
    /// <returns>Null, or why it could not be done (the agent then runs at normal priority).</returns>
    public static string? LowerOtherThreads(int nice) => Lower(nice, exceptThread: gettid());

    /// <summary>Lowers every thread of this process, the calling one included, to <paramref name="nice"/> (those already lower stay so).</summary>
    /// <returns>Null, or why it could not be done (the agent then runs at normal priority).</returns>
    public static string? LowerAllThreads(int nice) => Lower(nice, exceptThread: null);

    /// <summary>Lowers the calling thread alone; null when done, else why not.</summary>
    public static string? LowerThisThread(int nice)
    {
        try
        {
            return setpriority(PriorityProcess, gettid(), nice) == 0 ? null : $"errno {Marshal.GetLastPInvokeError()}";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    private static string? Lower(int nice, int? exceptThread)
    {
        try
        {
            string? failure = null;
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                if (!int.TryParse(Path.GetFileName(task), out var thread) || thread == exceptThread)
                {
                    continue;
                }
                // Never raise a thread that is already lower (that would need a privilege Lambda
                // does not give). -1 is a valid nice value, so errno tells an error.
                var current = getpriority(PriorityProcess, thread);
                var error = current == -1 ? Marshal.GetLastPInvokeError() : 0;
                if (error == 0 && current < nice && setpriority(PriorityProcess, thread, nice) != 0)
                {
                    error = Marshal.GetLastPInvokeError();
                }
                // A thread that ended since the listing (ESRCH) is no failure.
                if (error is not 0 and not Esrch)
                {
                    failure ??= $"errno {error} for thread {thread}";
                }
            }
            return failure;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or EntryPointNotFoundException)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, int who, int prio);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getpriority(int which, int who);

    [LibraryImport("libc")]
    private static partial int gettid();
}
