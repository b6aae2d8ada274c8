// The agent runs on Lambda (Linux); the spool tests rely on Linux file semantics.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
