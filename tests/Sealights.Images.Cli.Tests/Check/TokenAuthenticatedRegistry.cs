using System.Net;
using System.Net.Http.Headers;
using Sealights.Images.Testing;

namespace Sealights.Images.Cli.Tests.Check;

/// <summary>The registry on loopback (plain HTTP) in <c>auth.token</c> mode, with <see cref="TokenServer"/> in front of it.</summary>
public sealed class TokenAuthenticatedRegistry : IAsyncDisposable
{
    private readonly string _directory;
    private readonly RegistryProcess _process;

    private TokenAuthenticatedRegistry(string directory, int port, TokenServer tokens, RegistryProcess process)
    {
        _directory = directory;
        Port = port;
        Tokens = tokens;
        _process = process;
    }

    public int Port { get; }

    public string Host => $"127.0.0.1:{Port}";

    public TokenServer Tokens { get; }

    public static async Task<TokenAuthenticatedRegistry> StartAsync()
    {
        var directory = Directory.CreateTempSubdirectory("sl-check-token-registry-").FullName;
        var tokens = new TokenServer(FreePorts.Next(), directory);
        var port = FreePorts.Next();
        using var probe = new HttpClient();
        var process = await RegistryProcess.StartAsync(
            directory,
            port,
            "",
            $"""
              token:
                realm: {tokens.Realm}
                service: {TokenServer.Service}
                issuer: {TokenServer.Issuer}
                rootcertbundle: {tokens.SigningCertificateFile}
            """,
            async () => (await probe.GetAsync($"http://127.0.0.1:{port}/v2/")).StatusCode == HttpStatusCode.Unauthorized);
        return new TokenAuthenticatedRegistry(directory, port, tokens, process);
    }

    /// <summary>A client holding a push token for the given repositories.</summary>
    public HttpClient CreatePushClient(params string[] repositories)
    {
        var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Tokens.Issue(repositories.Select(r => $"repository:{r}:pull,push").ToArray()));
        return http;
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        await Tokens.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
