using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Sealights.Images.Testing;

namespace Sealights.Images.Cli.Tests.Check;

/// <summary>
/// The registry on its own loopback port behind TLS with a certificate of a throwaway CA, with
/// htpasswd (Basic) auth for one user made by <c>htpasswd -B</c> (apache2-utils).
/// </summary>
public sealed class AuthenticatedRegistry : IAsyncDisposable
{
    public const string User = "sl-check";

    private readonly RegistryProcess _process;

    private AuthenticatedRegistry(string directory, int port, string password, ThrowawayPki pki, RegistryProcess process)
    {
        Directory = directory;
        Port = port;
        Password = password;
        Pki = pki;
        _process = process;
    }

    public string Directory { get; }

    public int Port { get; }

    /// <summary>The registry host as image references name it.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public string Password { get; }

    public ThrowawayPki Pki { get; }

    public static async Task<AuthenticatedRegistry> StartAsync()
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("sl-check-registry-").FullName;
        var pki = ThrowawayPki.Create(Path.Combine(directory, "pki"));
        var certificate = pki.Valid();
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
        var htpasswd = (await ProcessRunner.RunAsync("htpasswd", ["-Bbn", User, password], TimeSpan.FromSeconds(30))).EnsureSuccess("htpasswd -B");
        File.WriteAllText(Path.Combine(directory, "htpasswd"), htpasswd.StdOut.Trim() + "\n");
        var port = FreePorts.Next();
        using var probe = CreatePushClient(pki, password);
        var process = await RegistryProcess.StartAsync(
            directory,
            port,
            $"""
              tls:
                certificate: {certificate.CertificateFile}
                key: {certificate.KeyFile}
            """,
            $"""
              htpasswd:
                realm: sl-check-test
                path: {Path.Combine(directory, "htpasswd")}
            """,
            async () => (await probe.GetAsync($"https://127.0.0.1:{port}/v2/")).StatusCode == HttpStatusCode.OK);
        return new AuthenticatedRegistry(directory, port, password, pki, process);
    }

    /// <summary>An HTTP client that trusts the throwaway CA and logs in, for pushing test images.</summary>
    public HttpClient CreatePushClient() => CreatePushClient(Pki, Password);

    private static HttpClient CreatePushClient(ThrowawayPki pki, string password)
    {
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(pki.CaCertificateFile));
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return certificate is X509Certificate2 server && chain.Build(server);
        };
        var http = new HttpClient(handler);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{password}")));
        return http;
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
