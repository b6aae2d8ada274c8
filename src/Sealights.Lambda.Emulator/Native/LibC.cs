using System.Runtime.InteropServices;

namespace Sealights.Lambda.Emulator.Native;

/// <summary>
/// The few libc calls the emulator needs. Every signature is blittable (ints and raw
/// pointers), so no marshalling code is generated and NativeAOT binds them directly.
/// </summary>
internal static unsafe class LibC
{
    private const string Lib = "libc";

    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;

    public const int EINTR = 4;
    public const int ECHILD = 10;
    public const int ESRCH = 3;

    public const int PR_SET_CHILD_SUBREAPER = 36;

    // posix_spawnattr flags (identical in glibc and musl).
    public const short POSIX_SPAWN_SETPGROUP = 0x02;
    public const short POSIX_SPAWN_SETSIGDEF = 0x04;
    public const short POSIX_SPAWN_SETSIGMASK = 0x08;

    public const int O_RDONLY = 0;

    // Opaque libc structures are allocated generously: glibc x86_64/arm64 use 336 bytes for
    // posix_spawnattr_t, 80 for posix_spawn_file_actions_t and 128 for sigset_t.
    public const int OpaqueStructSize = 1024;

    [DllImport(Lib, SetLastError = true)]
    public static extern int kill(int pid, int sig);

    [DllImport(Lib, SetLastError = true)]
    public static extern int waitpid(int pid, int* status, int options);

    [DllImport(Lib, SetLastError = true)]
    public static extern int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [DllImport(Lib)]
    public static extern int posix_spawn(int* pid, byte* path, void* fileActions, void* attributes, byte** argv, byte** envp);

    [DllImport(Lib)]
    public static extern int posix_spawn_file_actions_init(void* fileActions);

    [DllImport(Lib)]
    public static extern int posix_spawn_file_actions_destroy(void* fileActions);

    [DllImport(Lib)]
    public static extern int posix_spawn_file_actions_addchdir_np(void* fileActions, byte* path);

    [DllImport(Lib)]
    public static extern int posix_spawn_file_actions_addopen(void* fileActions, int fd, byte* path, int flags, uint mode);

    [DllImport(Lib)]
    public static extern int posix_spawnattr_init(void* attributes);

    [DllImport(Lib)]
    public static extern int posix_spawnattr_destroy(void* attributes);

    [DllImport(Lib)]
    public static extern int posix_spawnattr_setflags(void* attributes, short flags);

    [DllImport(Lib)]
    public static extern int posix_spawnattr_setpgroup(void* attributes, int processGroup);

    [DllImport(Lib)]
    public static extern int posix_spawnattr_setsigmask(void* attributes, void* signalSet);

    [DllImport(Lib)]
    public static extern int posix_spawnattr_setsigdefault(void* attributes, void* signalSet);

    [DllImport(Lib)]
    public static extern int sigemptyset(void* signalSet);

    [DllImport(Lib)]
    public static extern int sigfillset(void* signalSet);

    [DllImport(Lib)]
    public static extern int sigdelset(void* signalSet, int signal);

    [DllImport(Lib)]
    public static extern byte* strerror(int errorNumber);

    public static string ErrorText(int errorNumber) =>
        Marshal.PtrToStringUTF8((nint)strerror(errorNumber)) ?? $"errno {errorNumber}";
}
