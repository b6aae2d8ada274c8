// The agent listens on a Unix socket and traces Linux processes; so do its tests.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
