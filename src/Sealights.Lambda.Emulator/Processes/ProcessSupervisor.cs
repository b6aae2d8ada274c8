using System.Runtime.InteropServices;
using System.Text;
using Sealights.Lambda.Emulator.Hosting;
using Sealights.Lambda.Emulator.Native;

namespace Sealights.Lambda.Emulator.Processes;

/// <summary>
/// Starts the environment's processes and reaps every child. System.Diagnostics.Process is not
/// used on purpose: it only reaps the children it started, while the emulator (PID 1 in a
/// container, and a child subreaper elsewhere) must also reap the orphans the runtime and the
/// extensions leave behind, and a second waitpid(-1) caller would steal Process's statuses.
/// </summary>
internal sealed unsafe class ProcessSupervisor
{
    private readonly object _gate = new();
    private readonly Dictionary<int, Registration> _children = [];
    private readonly AutoResetEvent _childStarted = new(false);
    private readonly EmulatorLog _log;

    public ProcessSupervisor(EmulatorLog log)
    {
        _log = log;
    }

    /// <summary>Becomes a subreaper (orphans stay in our tree, so they can be frozen and killed) and starts reaping.</summary>
    public void Start()
    {
        if (LibC.prctl(LibC.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        {
            _log.Debug($"prctl(PR_SET_CHILD_SUBREAPER) failed: {LibC.ErrorText(Marshal.GetLastPInvokeError())}");
        }
        var reaper = new Thread(ReapLoop) { IsBackground = true, Name = "child reaper" };
        reaper.Start();
    }

    /// <summary>
    /// Starts a process in its own process group (a terminal's Ctrl+C reaches only the emulator,
    /// which then shuts the environment down in order), with stdin on /dev/null, default signal
    /// dispositions and an empty signal mask, and stdout/stderr inherited.
    /// </summary>
    public ManagedProcess Spawn(ProcessSpec spec, Action<ManagedProcess, ExitStatus> onExit)
    {
        var allocations = new List<nint>();
        var fileActions = NativeMemory.AllocZeroed(LibC.OpaqueStructSize);
        var attributes = NativeMemory.AllocZeroed(LibC.OpaqueStructSize);
        var emptySet = NativeMemory.AllocZeroed(LibC.OpaqueStructSize);
        var defaultSet = NativeMemory.AllocZeroed(LibC.OpaqueStructSize);
        try
        {
            var path = Utf8(spec.ExecutablePath, allocations);
            var argv = Utf8Array(spec.Arguments, allocations);
            var envp = Utf8Array(spec.Environment.Select(kv => $"{kv.Key}={kv.Value}").ToList(), allocations);

            _ = LibC.posix_spawn_file_actions_init(fileActions);
            _ = LibC.posix_spawn_file_actions_addchdir_np(fileActions, Utf8(spec.WorkingDirectory, allocations));
            _ = LibC.posix_spawn_file_actions_addopen(fileActions, 0, Utf8("/dev/null", allocations), LibC.O_RDONLY, 0);

            _ = LibC.posix_spawnattr_init(attributes);
            _ = LibC.sigemptyset(emptySet);
            _ = LibC.sigfillset(defaultSet);
            _ = LibC.sigdelset(defaultSet, LibC.SIGKILL);
            _ = LibC.sigdelset(defaultSet, LibC.SIGSTOP);
            _ = LibC.posix_spawnattr_setsigmask(attributes, emptySet);
            _ = LibC.posix_spawnattr_setsigdefault(attributes, defaultSet);
            _ = LibC.posix_spawnattr_setpgroup(attributes, 0);
            _ = LibC.posix_spawnattr_setflags(attributes,
                (short)(LibC.POSIX_SPAWN_SETPGROUP | LibC.POSIX_SPAWN_SETSIGDEF | LibC.POSIX_SPAWN_SETSIGMASK));

            int pid;
            int result;
            // Registration happens under the same lock the reaper takes, so an instant exit
            // cannot be reaped before the pid is known.
            lock (_gate)
            {
                result = LibC.posix_spawn(&pid, path, fileActions, attributes, argv, envp);
                if (result == 0)
                {
                    var process = new ManagedProcess(pid, spec.Name);
                    _children[pid] = new Registration(process, onExit);
                    _childStarted.Set();
                    _log.Debug($"started {spec.Name} (pid {pid}): {string.Join(' ', spec.Arguments)} (cwd {spec.WorkingDirectory})");
                    return process;
                }
            }
            throw new SpawnException($"{spec.ExecutablePath}: {LibC.ErrorText(result)}", result);
        }
        finally
        {
            _ = LibC.posix_spawn_file_actions_destroy(fileActions);
            _ = LibC.posix_spawnattr_destroy(attributes);
            NativeMemory.Free(fileActions);
            NativeMemory.Free(attributes);
            NativeMemory.Free(emptySet);
            NativeMemory.Free(defaultSet);
            foreach (var allocation in allocations)
            {
                NativeMemory.Free((void*)allocation);
            }
        }
    }

    private void ReapLoop()
    {
        while (true)
        {
            int status;
            var pid = LibC.waitpid(-1, &status, 0);
            if (pid > 0)
            {
                OnReaped(pid, status);
                continue;
            }
            if (Marshal.GetLastPInvokeError() == LibC.EINTR)
            {
                continue;
            }
            // ECHILD: no children yet; wake up when one is started.
            _childStarted.WaitOne(250);
        }
    }

    private void OnReaped(int pid, int waitStatus)
    {
        Registration? registration;
        lock (_gate)
        {
            _children.Remove(pid, out registration);
        }
        var status = ExitStatus.FromWaitStatus(waitStatus);
        if (registration is null)
        {
            _log.Debug($"reaped orphan pid {pid} ({status})");
            return;
        }
        _log.Debug($"{registration.Process.Name} (pid {pid}) exited: {status}");
        registration.Process.SetExited(status);
        try
        {
            registration.OnExit(registration.Process, status);
        }
        catch (Exception e)
        {
            _log.Error($"exit handler for {registration.Process.Name} failed: {e}");
        }
    }

    private static byte* Utf8(string value, List<nint> allocations)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        var buffer = (byte*)NativeMemory.Alloc((nuint)length + 1);
        allocations.Add((nint)buffer);
        Encoding.UTF8.GetBytes(value, new Span<byte>(buffer, length));
        buffer[length] = 0;
        return buffer;
    }

    private static byte** Utf8Array(IReadOnlyList<string> values, List<nint> allocations)
    {
        var array = (byte**)NativeMemory.Alloc((nuint)(values.Count + 1), (nuint)sizeof(byte*));
        allocations.Add((nint)array);
        for (var i = 0; i < values.Count; i++)
        {
            array[i] = Utf8(values[i], allocations);
        }
        array[values.Count] = null;
        return array;
    }

    private sealed record Registration(ManagedProcess Process, Action<ManagedProcess, ExitStatus> OnExit);
}
