// The emulator under test is Linux-only (posix_spawn, /proc, signals); so are its tests.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
