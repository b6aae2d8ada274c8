using System.Net;
using System.Net.Sockets;

namespace Sealights.Images.Testing;

/// <summary>
/// Loopback ports for containers on the host network: every container gets its own pair,
/// because without a bridge there is no port mapping to keep them apart.
/// </summary>
public static class FreePorts
{
    private static readonly object Gate = new();
    private static readonly HashSet<int> Handed = [];

    public static int Next()
    {
        lock (Gate)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                // The kernel may hand the same ephemeral port out again once it is closed.
                if (Handed.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
