using System.Text;
using System.Text.Json.Nodes;
using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.Cli.Tests.Check;

/// <summary>A token-authenticated registry with a public and a private chain pushed into it.</summary>
public sealed class TokenRegistryFixture : IAsyncLifetime
{
    public TokenAuthenticatedRegistry Registry { get; private set; } = null!;

    public CheckChains Public { get; private set; } = null!;

    public CheckChains Private { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Registry = await TokenAuthenticatedRegistry.StartAsync();
        foreach (var ns in new[] { "public", "private" })
        {
            using var http = Registry.CreatePushClient(CheckChains.RepositoriesOf(ns));
            var chains = new CheckChains(new OciPusher(http, $"http://{Registry.Host}"), Registry.Host, ns);
            await chains.PushAllAsync();
            if (ns == "public")
            {
                Public = chains;
            }
            else
            {
                Private = chains;
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (Registry is not null)
        {
            await Registry.DisposeAsync();
        }
    }
}

/// <summary>
/// <c>sl-images check</c> against the registry in token mode: the Bearer challenge is followed to
/// its realm with the challenge's service and scope, anonymously (as for public.ecr.aws) or with
/// the host's Docker credentials.
/// </summary>
public sealed class CheckTokenAuthenticationTests(TokenRegistryFixture fixture, ITestOutputHelper output) : IClassFixture<TokenRegistryFixture>, IDisposable
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "sl-images.dll");

    private readonly string _home = Directory.CreateTempSubdirectory("sl-check-token-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Fact]
    public async Task A_public_repository_is_read_with_anonymous_bearer_tokens()
    {
        var before = fixture.Registry.Tokens.Requests.Count;

        var result = await CheckAsync(fixture.Public.App);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"{fixture.Public.App} (linux/amd64): FRESH", result.StdOut);
        var asked = fixture.Registry.Tokens.Requests.Skip(before).ToList();
        Assert.All(asked, r => Assert.Null(r.User));
        Assert.All(asked, r => Assert.Equal(TokenServer.Service, r.Service));
        // One token per repository of the chain, each for the scope the registry's challenge named.
        Assert.Equal(
            [$"repository:{fixture.Public.AppRepository}:pull", $"repository:{fixture.Public.CoverageRepository}:pull", $"repository:{fixture.Public.AwsRepository}:pull"],
            asked.Select(r => Assert.Single(r.Scopes)).Distinct());
    }

    [Fact]
    public async Task A_private_repository_needs_the_credentials_docker_login_writes()
    {
        var without = await CheckAsync(fixture.Private.App);
        File.WriteAllText(Path.Combine(_home, "config.json"), new JsonObject
        {
            ["auths"] = new JsonObject { [fixture.Registry.Host] = new JsonObject { ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TokenServer.User}:{fixture.Registry.Tokens.Password}")) } },
        }.ToJsonString());
        var before = fixture.Registry.Tokens.Requests.Count;
        var with = await CheckAsync(fixture.Private.App);

        Assert.Equal(3, without.ExitCode);
        Assert.Equal(
            $"sl-images check: {fixture.Private.App} (-): {fixture.Registry.Host} requires credentials and none are configured for it in {Path.Combine(_home, "config.json")} (run docker login {fixture.Registry.Host}, or point DOCKER_CONFIG at a folder whose config.json has them)",
            without.StdErr.Trim());
        Assert.Equal(0, with.ExitCode);
        Assert.Contains($"{fixture.Private.App} (linux/amd64): FRESH", with.StdOut);
        Assert.All(fixture.Registry.Tokens.Requests.Skip(before), r => Assert.Equal(TokenServer.User, r.User));
        Assert.DoesNotContain(fixture.Registry.Tokens.Password, with.Output);
    }

    [Fact]
    public async Task An_identity_token_is_exchanged_as_an_OAuth2_refresh_token()
    {
        File.WriteAllText(Path.Combine(_home, "config.json"), new JsonObject
        {
            ["auths"] = new JsonObject { [fixture.Registry.Host] = new JsonObject { ["auth"] = "", ["identitytoken"] = fixture.Registry.Tokens.IdentityToken } },
        }.ToJsonString());
        var before = fixture.Registry.Tokens.Requests.Count;

        var result = await CheckAsync(fixture.Private.Coverage);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"{fixture.Private.Coverage} (linux/amd64): FRESH", result.StdOut);
        var asked = fixture.Registry.Tokens.Requests.Skip(before).ToList();
        Assert.NotEmpty(asked);
        Assert.All(asked, r => Assert.Equal("identity-token", r.User));
        Assert.DoesNotContain(fixture.Registry.Tokens.IdentityToken, result.Output);
    }

    private async Task<ProcessResult> CheckAsync(params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync("dotnet", [Cli, "check", .. arguments], TimeSpan.FromMinutes(1), environment: new Dictionary<string, string> { ["DOCKER_CONFIG"] = _home });
        output.WriteLine($"$ sl-images check {string.Join(' ', arguments)}  -> exit {result.ExitCode}\n{result.StdOut}{result.StdErr}");
        return result;
    }
}
