namespace Sealights.Images.Cli.Sealights;

/// <summary>The HTTP client for backend calls: the machine's proxy settings, a per-request time limit.</summary>
public static class SealightsHttp
{
    public static HttpClient Create() => new(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.All })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };
}
