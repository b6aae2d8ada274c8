using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sealights.Images.Testing;

/// <summary>
/// A certificate authority made for one test run and thrown away with it (no private key is ever
/// kept in the repository), and the server certificates the HTTPS tests need: one valid for
/// 127.0.0.1 and localhost, one expired, one for another host name, and (from a second CA that
/// is never installed anywhere) one that nothing trusts. Files are PEM, as Kestrel and
/// update-ca-trust read them.
/// </summary>
public sealed class ThrowawayPki
{
    private readonly X509Certificate2 _ca;

    private ThrowawayPki(string directory, X509Certificate2 ca)
    {
        Directory = directory;
        _ca = ca;
        CaCertificateFile = Path.Combine(directory, "throwaway-ca.crt");
        File.WriteAllText(CaCertificateFile, ca.ExportCertificatePem() + "\n");
    }

    /// <summary>Where the files are.</summary>
    public string Directory { get; }

    /// <summary>The CA's certificate (PEM, no key): what a trust store gets.</summary>
    public string CaCertificateFile { get; }

    /// <summary>A CA valid from 60 days ago for a year (so it can issue a certificate that has already expired), its key only in memory.</summary>
    public static ThrowawayPki Create(string directory, string name = "Sealights.Images throwaway test CA")
    {
        System.IO.Directory.CreateDirectory(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return new ThrowawayPki(directory, request.CreateSelfSigned(now.AddDays(-60), now.AddDays(365)));
    }

    /// <summary>Valid now, for 127.0.0.1 and localhost.</summary>
    public ServerCertificate Valid() => Issue("valid", ["localhost"], [IPAddress.Loopback], DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

    /// <summary>For 127.0.0.1 and localhost, but its validity ended yesterday.</summary>
    public ServerCertificate Expired() => Issue("expired", ["localhost"], [IPAddress.Loopback], DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(-1));

    /// <summary>Valid now, but for another host only (no 127.0.0.1, no localhost).</summary>
    public ServerCertificate WrongHost() => Issue("wrong-host", ["backend.wrong-name.example"], [], DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

    /// <summary>A certificate of this CA: PEM certificate and PKCS#8 key files named after <paramref name="name"/>.</summary>
    public ServerCertificate Issue(string name, IReadOnlyList<string> dnsNames, IReadOnlyList<IPAddress> addresses, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={(dnsNames.Count > 0 ? dnsNames[0] : addresses[0].ToString())}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var dns in dnsNames)
        {
            names.AddDnsName(dns);
        }
        foreach (var address in addresses)
        {
            names.AddIpAddress(address);
        }
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var certificate = request.Create(_ca, notBefore, notAfter, serial);
        var certificateFile = Path.Combine(Directory, $"{name}.crt");
        var keyFile = Path.Combine(Directory, $"{name}.key");
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem() + "\n");
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem() + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return new ServerCertificate(certificateFile, keyFile);
    }
}

/// <summary>A server certificate and its private key, as PEM files.</summary>
public sealed record ServerCertificate(string CertificateFile, string KeyFile);
