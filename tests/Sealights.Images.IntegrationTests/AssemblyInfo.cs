using System.Runtime.Versioning;

// The integration tests drive a Linux Docker engine and Linux containers.
[assembly: SupportedOSPlatform("linux")]
