using System.Net;
using System.Security.Authentication;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// The one line a customer gets when a request fails below HTTP, from the exceptions .NET
/// throws (built here: no handshake, no process). TransportFailureTests makes the real
/// handshakes; these pin every cause's words, which only some of those handshakes reach.
/// </summary>
public sealed class TransportFailureMessageTests
{
    private static HttpRequestException Tls(string message, int depth = 1)
    {
        Exception inner = new AuthenticationException(message);
        for (var i = 1; i < depth; i++)
        {
            inner = new IOException("wrapped", inner);
        }
        return new HttpRequestException(HttpRequestError.SecureConnectionError, "The SSL connection could not be established, see inner exception.", inner);
    }

    [Theory]
    [InlineData("UntrustedRoot", "TLS: server certificate not trusted (UntrustedRoot: no CA in this image's trust store issued it)")]
    [InlineData("PartialChain", "TLS: server certificate not trusted (PartialChain: its chain does not reach a CA in this image's trust store)")]
    [InlineData("NotTimeValid", "TLS: server certificate expired (NotTimeValid: outside its validity period)")]
    [InlineData("RemoteCertificateNameMismatch", "TLS: server certificate name mismatch (RemoteCertificateNameMismatch: not issued for the host name in the URL)")]
    [InlineData("Revoked", "TLS: server certificate revoked (Revoked: its CA revoked it)")]
    [InlineData("RemoteCertificateNotAvailable", "TLS: server certificate missing (RemoteCertificateNotAvailable: the server sent none)")]
    public void Each_certificate_cause_is_named_with_what_it_means(string token, string expected)
    {
        var e = Tls($"The remote certificate is invalid because of errors in the certificate chain: {token}");

        Assert.Equal(expected, TransportFailure.Describe(e));
    }

    [Fact]
    public void Several_causes_are_all_named_in_the_tables_order()
    {
        var e = Tls("The remote certificate is invalid because of errors in the certificate chain: NotTimeValid, UntrustedRoot");

        Assert.Equal(
            "TLS: server certificate not trusted (UntrustedRoot: no CA in this image's trust store issued it), expired (NotTimeValid: outside its validity period)",
            TransportFailure.Describe(e));
    }

    [Fact]
    public void The_TLS_refusal_is_found_deeper_in_the_inner_exceptions()
    {
        Assert.Equal(
            "TLS: server certificate revoked (Revoked: its CA revoked it)",
            TransportFailure.Describe(Tls("chain: Revoked", depth: 3)));
    }

    [Fact]
    public void A_TLS_refusal_with_no_known_cause_keeps_its_own_message()
    {
        Assert.Equal(
            "TLS handshake failed: Authentication failed because the remote party sent a TLS alert: 'HandshakeFailure'.",
            TransportFailure.Describe(Tls("Authentication failed because the remote party sent a TLS alert: 'HandshakeFailure'.")));
    }

    [Fact]
    public void A_cause_is_matched_by_its_exact_spelling()
    {
        // .NET prints the enum names; a lower-case word in a message is not one of them.
        Assert.StartsWith("TLS handshake failed:", TransportFailure.Describe(Tls("the certificate was revoked")));
    }

    [Fact]
    public void Below_TLS_the_error_kind_and_message_are_said()
    {
        var e = new HttpRequestException(HttpRequestError.NameResolutionError, "Name or service not known (acme.invalid:443)", new IOException("dns"));

        Assert.Equal("NameResolutionError: Name or service not known (acme.invalid:443)", TransportFailure.Describe(e));
        Assert.Equal("NameResolutionError: Name or service not known (acme.invalid:443)", FootprintsSender.Describe(e));
    }

    [Fact]
    public void Without_an_inner_exception_the_error_kind_and_message_are_said()
    {
        var e = new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (127.0.0.1:9)");

        Assert.Equal("ConnectionError: Connection refused (127.0.0.1:9)", TransportFailure.Describe(e));
    }
}
