using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Net.Security;

namespace Sealights.Lambda.Agent.Delivery;

/// <summary>
/// Says why a request failed below HTTP in words a customer can act on. A refused server
/// certificate surfaces as an <see cref="AuthenticationException"/> inside the
/// <see cref="HttpRequestException"/>, whose own message only says "see inner exception"; the
/// inner message names the chain status or policy error, which is mapped to its cause here.
/// </summary>
internal static class TransportFailure
{
    // (token in .NET's message: the enum name it prints, the cause, what it means).
    private static readonly (string Token, string Cause, string Meaning)[] CertificateCauses =
    [
        (nameof(X509ChainStatusFlags.UntrustedRoot), "not trusted", "no CA in this image's trust store issued it"),
        (nameof(X509ChainStatusFlags.PartialChain), "not trusted", "its chain does not reach a CA in this image's trust store"),
        (nameof(X509ChainStatusFlags.NotTimeValid), "expired", "outside its validity period"),
        (nameof(SslPolicyErrors.RemoteCertificateNameMismatch), "name mismatch", "not issued for the host name in the URL"),
        (nameof(X509ChainStatusFlags.Revoked), "revoked", "its CA revoked it"),
        (nameof(SslPolicyErrors.RemoteCertificateNotAvailable), "missing", "the server sent none"),
    ];

    public static string Describe(HttpRequestException e)
    {
        for (Exception? inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is AuthenticationException tls)
            {
                // A plain loop: LINQ over the tuples would add about 50 KB of NativeAOT code.
                var causes = new List<string>();
                foreach (var (token, cause, meaning) in CertificateCauses)
                {
                    if (tls.Message.Contains(token, StringComparison.Ordinal))
                    {
                        causes.Add($"{cause} ({token}: {meaning})");
                    }
                }
                return causes.Count > 0
                    ? $"TLS: server certificate {string.Join(", ", causes)}"
                    : $"TLS handshake failed: {tls.Message}";
            }
        }
        return $"{e.HttpRequestError}: {e.Message}";
    }
}
