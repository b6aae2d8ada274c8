using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Sealights.Images.Testing;

namespace Sealights.Images.Cli.Tests.Check;

/// <summary>
/// Debian's Docker registry (<c>/usr/bin/docker-registry</c>, the distribution project's
/// <c>registry</c>) as a process of the test: on its own loopback port, behind TLS with a
/// certificate of a throwaway CA, with htpasswd (Basic) auth for one user made by
/// <c>htpasswd -B</c> (apache2-utils). Storage in a temporary folder, removed on dispose.
/// </summary>
public sealed class AuthenticatedRegistry : IAsyncDisposable
{
    public const string User = "sl-check";

    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private AuthenticatedRegistry(string directory, int port, string password, ThrowawayPki pki, Process process)
    {
        Directory = directory;
        Port = port;
        Password = password;
        Pki = pki;
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
    }

    public string Directory { get; }

    public int Port { get; }

    /// <summary>The registry host as image references name it.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public string Password { get; }

    public ThrowawayPki Pki { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<AuthenticatedRegistry> StartAsync()
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("sl-check-registry-").FullName;
        var pki = ThrowawayPki.Create(Path.Combine(directory, "pki"));
        var certificate = pki.Valid();
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
        var htpasswd = (await ProcessRunner.RunAsync("htpasswd", ["-Bbn", User, password], TimeSpan.FromSeconds(30))).EnsureSuccess("htpasswd -B");
        File.WriteAllText(Path.Combine(directory, "htpasswd"), htpasswd.StdOut.Trim() + "\n");
        var port = FreePorts.Next();
        var config = Path.Combine(directory, "config.yml");
        File.WriteAllText(config, $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Path.Combine(directory, "data")}
            http:
              addr: 127.0.0.1:{port}
              secret: {Guid.NewGuid():N}
              tls:
                certificate: {certificate.CertificateFile}
                key: {certificate.KeyFile}
            auth:
              htpasswd:
                realm: sl-check-test
                path: {Path.Combine(directory, "htpasswd")}
            """);
        var startInfo = new ProcessStartInfo("/usr/bin/docker-registry") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        startInfo.ArgumentList.Add("serve");
        startInfo.ArgumentList.Add(config);
        var registry = new AuthenticatedRegistry(directory, port, password, pki, Process.Start(startInfo)!);
        registry._process.BeginOutputReadLine();
        registry._process.BeginErrorReadLine();
        await registry.WaitUntilReadyAsync();
        return registry;
    }

    /// <summary>An HTTP client that trusts the throwaway CA and logs in, for pushing test images.</summary>
    public HttpClient CreatePushClient()
    {
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Pki.CaCertificateFile));
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
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")));
        return http;
    }

    private async Task WaitUntilReadyAsync()
    {
        using var http = CreatePushClient();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"docker-registry exited ({_process.ExitCode}):\n{Log}");
            }
            try
            {
                using var response = await http.GetAsync($"https://{Host}/v2/");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"docker-registry did not answer on {Host} within 30 s:\n{Log}");
            }
            await Task.Delay(100);
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
