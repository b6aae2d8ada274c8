using System.Text.RegularExpressions;
using Sealights.Images.IntegrationTests.Infrastructure;
using Sealights.Images.Testing;
using Xunit.Abstractions;
using static Sealights.Images.Testing.SampleCalls;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// Footprints over TLS, as the real service takes them: the stand-in backend serves HTTPS with a
/// certificate from a CA made for this run (<see cref="ThrowawayPki"/>), and the function image
/// trusts that CA the way AWS's base (Amazon Linux 2023) is taught one, in a derived image:
/// <c>COPY ca.crt /etc/pki/ca-trust/source/anchors/</c> + <c>RUN update-ca-trust</c>. Refused
/// certificates (unknown CA, expired, another host name) must each give one line naming the cause
/// and lose nothing; and the same delivery goes through a real CONNECT proxy (tinyproxy) via SL_PROXY.
/// </summary>
[Collection(CoverageCollection.Name)]
public sealed class HttpsDeliveryTests(CoverageFixture images, ITestOutputHelper output) : IDisposable
{
    private const string Bsid = "bsid-tls";
    private const string Lab = "lab-tls";
    private const string Execution = "execution-tls";
    private const string SpoolDirectory = "/tmp/.sealights-agent/spool";

    private static readonly SemaphoreSlim TrustGate = new(1, 1);
    private static (ThrowawayPki Pki, string Image)? s_trusted;

    private readonly ScenarioScratch _scratch = new("sl-https-");

    private string Token => field ??= SealightsTokens.Create($"https://127.0.0.1:{_scratch.BackendPort}/api");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Footprints_arrive_over_https_with_the_CA_installed_as_on_Amazon_Linux_2023()
    {
        var (pki, image) = await TrustedImageAsync();
        var backend = await StartBackendAsync(pki.Valid());
        var container = await StartFunctionAsync(image);

        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        await WaitUntilAsync(() => backend.DeliveredMethods().Contains(EchoMethod), "the first invocation's footprints over https", container);
        Assert.Equal(200, (await container.InvokeAsync(Quote)).StatusCode);
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);

        Assert.Contains($"footprints go to the server https://127.0.0.1:{_scratch.BackendPort}/api", logs);
        Assert.Equal(ReadHitsFile().Keys.Order(), backend.DeliveredMethods().Order());
        Assert.Contains(PriceMethod, backend.DeliveredMethods());
        Assert.DoesNotContain("footprints not delivered", logs);
        Assert.DoesNotContain(Token, logs);
    }

    [Theory]
    // The backend sends its certificate alone: with the issuer nowhere, .NET reports PartialChain.
    [InlineData("unknown-ca", "TLS: server certificate not trusted (PartialChain")]
    [InlineData("expired", "TLS: server certificate expired (NotTimeValid")]
    [InlineData("wrong-host", "TLS: server certificate name mismatch (RemoteCertificateNameMismatch")]
    public async Task A_refused_certificate_is_one_line_naming_the_cause_and_nothing_is_lost(string certificate, string cause)
    {
        var (pki, image) = await TrustedImageAsync();
        var refused = certificate switch
        {
            // Same names as the valid one, but from a CA the image has never seen.
            "unknown-ca" => ThrowawayPki.Create(Path.Combine(_scratch.Directory, "unknown-ca"), "Unknown test CA").Valid(),
            "expired" => pki.Expired(),
            _ => pki.WrongHost(),
        };
        var backend = await StartBackendAsync(refused);
        var container = await StartFunctionAsync(image, ("SL_FLUSH_INTERVAL_SECONDS", "0"));

        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        Assert.Equal(200, (await container.InvokeAsync(Quote)).StatusCode);
        var logs = await container.WaitForLogAsync(l => l.Contains("footprints not delivered", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        // Held: the spool keeps every batch the refused attempts carried.
        var spooled = await SpoolFilesAsync(container);
        Assert.True(spooled > 0, "no batch in the spool while the certificate is refused");
        Assert.Empty(backend.FootprintsRecords());

        // The certificate is fixed (the backend now shows a valid one): the held batches go out.
        await backend.RestartAsync(pki.Valid());
        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        await container.StopAsync();
        logs = await container.LogsAsync();
        output.WriteLine(logs);
        output.WriteLine($"{spooled} batches were spooled while refused");

        var refusals = LogLines(logs).Where(l => l.Contains(cause, StringComparison.Ordinal)).ToList();
        var refusal = Assert.Single(refusals);
        Assert.Contains("WARN footprints not delivered (", refusal);
        Assert.Contains("batches kept in the spool", refusal);
        Assert.Contains("footprints delivered again after", logs);
        Assert.Contains("0 pending, ", logs);
        Assert.Contains("dropped: 0 spool full, 0 refused, 0 without execution, 0 unreadable", logs);
        Assert.Equal(ReadHitsFile().Keys.Order(), backend.DeliveredMethods().Order());
        Assert.Contains(PriceMethod, backend.DeliveredMethods());
        Assert.DoesNotContain(Token, logs);
    }

    [Fact]
    public async Task The_stand_ins_update_ca_trust_takes_PEM_and_DER_anchors_and_forgets_removed_ones()
    {
        // Two CAs: one added as PEM, one as DER; OpenSSL's default store (what .NET reads) is asked.
        var pem = ThrowawayPki.Create(Path.Combine(_scratch.Directory, "pem"));
        pem.Valid();
        var der = ThrowawayPki.Create(Path.Combine(_scratch.Directory, "der"));
        der.Valid();
        const string Script = """
            set -e
            anchors=/etc/pki/ca-trust/source/anchors
            verify() { if openssl verify "$1" >/dev/null 2>&1; then echo "$2 trusted"; else echo "$2 not trusted"; fi; }
            verify /pki/pem/valid.crt pem-before
            cp /pki/pem/throwaway-ca.crt $anchors/pem-ca.pem
            openssl x509 -in /pki/der/throwaway-ca.crt -outform DER -out $anchors/der-ca.cer
            update-ca-trust
            verify /pki/pem/valid.crt pem
            verify /pki/der/valid.crt der
            grep -c 'BEGIN CERTIFICATE' /etc/pki/tls/certs/ca-bundle.crt > /tmp/with
            rm $anchors/der-ca.cer
            update-ca-trust 2>/dev/null
            verify /pki/der/valid.crt der-removed
            verify /pki/pem/valid.crt pem-kept
            echo "bundle $(cat /tmp/with) -> $(grep -c 'BEGIN CERTIFICATE' /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem)"
            """;
        var result = (await DockerCli.RunAsync(
            ["run", "--rm", "--network", "host", "--volume", $"{_scratch.Directory}:/pki:ro", "--entrypoint", "sh", StandInImages.Base("10"), "-c", Script]))
            .EnsureSuccess("update-ca-trust on the stand-in");
        output.WriteLine(result.Output);

        Assert.Contains("pem-before not trusted", result.StdOut);
        Assert.Contains("pem trusted", result.StdOut);
        Assert.Contains("der trusted", result.StdOut);
        Assert.Contains("der-removed not trusted", result.StdOut);
        Assert.Contains("pem-kept trusted", result.StdOut);
        var bundle = Regex.Match(result.StdOut, @"bundle (\d+) -> (\d+)");
        Assert.Equal(int.Parse(bundle.Groups[1].Value) - 1, int.Parse(bundle.Groups[2].Value));
    }

    [Fact]
    public async Task Through_SL_PROXY_a_real_CONNECT_proxy_carries_the_https_delivery()
    {
        var (pki, image) = await TrustedImageAsync();
        var backend = await StartBackendAsync(pki.Valid());
        var proxy = await TinyproxyProcess.StartAsync(_scratch.Directory, _scratch.BackendPort);
        _scratch.Own(proxy);
        var container = await StartFunctionAsync(image, ("SL_PROXY", proxy.Address.ToString()));

        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        await WaitUntilAsync(() => backend.DeliveredMethods().Contains(EchoMethod), "the first invocation's footprints through the proxy", container);
        Assert.Equal(200, (await container.InvokeAsync(Quote)).StatusCode);
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);
        output.WriteLine(string.Join("\n", proxy.Log));

        Assert.Contains($", proxy http://127.0.0.1:{proxy.Port}", logs);
        // Every request the agent made went through the proxy as a TLS tunnel to the backend.
        Assert.NotEmpty(proxy.Requests);
        Assert.All(proxy.Requests, r => Assert.Equal($"CONNECT 127.0.0.1:{_scratch.BackendPort} HTTP/1.1", r));
        Assert.Equal(ReadHitsFile().Keys.Order(), backend.DeliveredMethods().Order());
        Assert.Contains(PriceMethod, backend.DeliveredMethods());
        Assert.DoesNotContain(Token, logs);
    }

    [Fact]
    public async Task Through_a_proxy_that_wants_a_password_it_is_sent_and_never_logged()
    {
        var (pki, image) = await TrustedImageAsync();
        var backend = await StartBackendAsync(pki.Valid());
        var password = Guid.NewGuid().ToString("N");
        var proxy = await TinyproxyProcess.StartAsync(_scratch.Directory, _scratch.BackendPort, ("sl-agent", password));
        _scratch.Own(proxy);
        var container = await StartFunctionAsync(image, ("SL_PROXY", $"http://sl-agent:{password}@127.0.0.1:{proxy.Port}"));

        Assert.Equal(200, (await container.InvokeAsync(Echo)).StatusCode);
        await container.StopAsync();
        var logs = await container.LogsAsync();
        output.WriteLine(logs);
        output.WriteLine(string.Join("\n", proxy.Log));

        Assert.Contains($", proxy http://127.0.0.1:{proxy.Port}", logs);
        Assert.Contains(EchoMethod, backend.DeliveredMethods());
        Assert.Contains($"CONNECT 127.0.0.1:{_scratch.BackendPort} HTTP/1.1", proxy.Requests);
        Assert.DoesNotContain(password, logs);
        Assert.DoesNotContain(Token, logs);
    }

    /// <summary>
    /// Once per run: the CA, and the sample function image (on the coverage-ready image) with the
    /// CA added as a user adds one on AWS's base. The CA's key lives in memory only.
    /// </summary>
    private static async Task<(ThrowawayPki Pki, string Image)> TrustedImageAsync(string sampleImage)
    {
        await TrustGate.WaitAsync();
        try
        {
            if (s_trusted is { } done)
            {
                return done;
            }
            // One folder, emptied by the next run too: a test host that dies before ProcessExit leaves one.
            var directory = Path.Combine(Path.GetTempPath(), "sl-https-tests-pki");
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
            var pki = ThrowawayPki.Create(directory);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(directory, recursive: true);
            var tag = await TrustedCaImage.BuildAsync(sampleImage, pki.CaCertificateFile);
            s_trusted = (pki, tag);
            return (pki, tag);
        }
        finally
        {
            TrustGate.Release();
        }
    }

    private Task<(ThrowawayPki Pki, string Image)> TrustedImageAsync() => TrustedImageAsync(images.SampleImage);

    private static IEnumerable<string> LogLines(string logs) => logs.Split('\n').Where(l => l.Contains("[sealights-agent]", StringComparison.Ordinal));

    private static async Task<int> SpoolFilesAsync(LambdaContainer container)
    {
        var result = await DockerCli.RunAsync(["exec", container.Name, "sh", "-c", $"ls {SpoolDirectory} | grep -c '^fp-.*\\.json$' || true"]);
        return int.Parse(result.EnsureSuccess("docker exec ls spool").StdOut.Trim());
    }

    private Task WaitUntilAsync(Func<bool> condition, string what, LambdaContainer container) =>
        ScenarioScratch.WaitUntilAsync(() => Task.FromResult(condition()), what, container, output, TimeSpan.FromSeconds(10));

    private async Task<TestBackendProcess> StartBackendAsync(ServerCertificate certificate)
    {
        var backend = await TestBackendProcess.StartHttpsAsync(_scratch.Directory, _scratch.BackendPort, certificate, Token, Execution, output.WriteLine);
        _scratch.Own(backend);
        await backend.StatsAsync();
        return backend;
    }

    private async Task<LambdaContainer> StartFunctionAsync(string image, params (string Name, string Value)[] settings)
    {
        var environment = new Dictionary<string, string>
        {
            ["SL_TOKEN"] = Token,
            ["SL_BUILD_SESSION_ID"] = Bsid,
            ["SL_LAB_ID"] = Lab,
            ["SL_DEBUG_HITS_FILE"] = "/sl-out/hits.jsonl",
            ["SL_RETRY_MIN_MS"] = "100",
            ["SL_RETRY_MAX_MS"] = "1000",
            // Room for the first TLS handshake (a fresh process loads the system's CA bundle).
            ["SL_FLUSH_BUDGET_MS"] = "5000",
        };
        foreach (var (name, value) in settings)
        {
            environment[name] = value;
        }
        var container = await LambdaContainer.StartAsync(image, environment, ["--volume", $"{_scratch.Directory}:/sl-out"]);
        _scratch.Own(container);
        return container;
    }

    private Dictionary<string, DateTimeOffset> ReadHitsFile() => DebugHitsFile.Read(Path.Combine(_scratch.Directory, "hits.jsonl"));
}
