using System.Net;
using Sealights.Images.Testing;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// What the agent says when TLS refuses the server: real handshakes with the agent's own HTTP
/// handler against the test backend serving HTTPS with certificates made for the test. This
/// machine does not trust the throwaway CA, so every certificate here is also "not trusted";
/// the image-level tests (HttpsDeliveryTests) see each cause alone.
/// </summary>
public sealed class TransportFailureTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sl-tls-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("valid", "TLS: server certificate not trusted (PartialChain: its chain does not reach a CA in this image's trust store)")]
    [InlineData("expired", "expired (NotTimeValid: outside its validity period)")]
    [InlineData("wrong-host", "TLS: server certificate name mismatch (RemoteCertificateNameMismatch: not issued for the host name in the URL)")]
    public async Task A_refused_server_certificate_is_named_by_its_cause(string kind, string expected)
    {
        var pki = ThrowawayPki.Create(Path.Combine(_directory, "pki"));
        var certificate = kind switch
        {
            "valid" => pki.Valid(),
            "expired" => pki.Expired(),
            _ => pki.WrongHost(),
        };
        var port = FreePorts.Next();
        await using var backend = await TestBackendProcess.StartHttpsAsync(_directory, port, certificate);

        var description = await FailureAsync($"https://127.0.0.1:{port}/_control/health");

        Assert.Contains(expected, description);
        Assert.DoesNotContain("see inner exception", description);
    }

    [Fact]
    public async Task A_failure_without_TLS_keeps_the_error_kind_and_message()
    {
        var description = await FailureAsync($"http://127.0.0.1:{FreePorts.Next()}/");

        Assert.StartsWith($"{HttpRequestError.ConnectionError}: Connection refused", description);
    }

    private static async Task<string> FailureAsync(string url)
    {
        var options = new DeliveryOptions { BuildSessionId = "bsid", LabId = "lab", BaseAddress = new Uri(url) };
        using var client = new HttpClient(FootprintsSender.CreateHandler(options));
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(url));
        return TransportFailure.Describe(failure);
    }
}
