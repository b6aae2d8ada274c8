namespace Sealights.Images.Testing;

/// <summary>A container log split into lines (docker logs may carry CRLF from a runtime).</summary>
public static class LogLines
{
    public static IEnumerable<string> Of(string logs) => logs.Split('\n').Select(l => l.TrimEnd('\r'));
}
