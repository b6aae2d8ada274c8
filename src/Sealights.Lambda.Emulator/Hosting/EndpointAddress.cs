using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Sealights.Lambda.Emulator.Hosting;

/// <summary>A HOST:PORT listen address as RIE takes it ("0.0.0.0:8080", "127.0.0.1:9001", "[::1]:9001", ":8080").</summary>
internal sealed record EndpointAddress(IPAddress Address, int Port)
{
    public static EndpointAddress Parse(string value, string flag)
    {
        var colon = value.LastIndexOf(':');
        if (colon < 0)
        {
            throw new OptionsException($"{flag}: '{value}' is not HOST:PORT");
        }
        var host = value[..colon];
        var portText = value[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new OptionsException($"{flag}: '{portText}' is not a port number (0-65535) in '{value}'");
        }
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        IPAddress address;
        if (host.Length == 0)
        {
            address = IPAddress.Any;
        }
        else if (IPAddress.TryParse(host, out var literal))
        {
            address = literal;
        }
        else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else
        {
            try
            {
                address = Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                    ?? Dns.GetHostAddresses(host).First();
            }
            catch (Exception e) when (e is SocketException or InvalidOperationException or ArgumentException)
            {
                throw new OptionsException($"{flag}: cannot resolve host '{host}' in '{value}'");
            }
        }
        return new EndpointAddress(address, port);
    }

    /// <summary>How a local client reaches this listener: wildcard binds are reached on loopback.</summary>
    public string ClientAuthority(int actualPort)
    {
        var address = Address.Equals(IPAddress.Any) ? IPAddress.Loopback
            : Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
            : Address;
        return address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{actualPort}" : $"{address}:{actualPort}";
    }

    public override string ToString() =>
        Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]:{Port}" : $"{Address}:{Port}";
}

/// <summary>A command-line or environment setting the emulator cannot work with.</summary>
internal sealed class OptionsException(string message) : Exception(message);
