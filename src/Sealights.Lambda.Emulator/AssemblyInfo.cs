// The emulator is Linux-only: posix_spawn, /proc, SIGSTOP/SIGCONT, a Lambda sandbox's OS.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
