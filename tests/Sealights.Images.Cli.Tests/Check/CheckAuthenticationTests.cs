using System.Text;
using System.Text.Json.Nodes;
using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.Cli.Tests.Check;

/// <summary>A registry that needs credentials, started once for the authentication tests, with a chain pushed into it.</summary>
public sealed class AuthenticatedRegistryFixture : IAsyncLifetime
{
    public AuthenticatedRegistry Registry { get; private set; } = null!;

    public CheckChains Chains { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Registry = await AuthenticatedRegistry.StartAsync();
        using var http = Registry.CreatePushClient();
        Chains = new CheckChains(new OciPusher(http, $"https://{Registry.Host}"), Registry.Host, "team");
        await Chains.PushAllAsync();
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
/// <c>sl-images check</c> against Debian's registry with htpasswd auth behind TLS (a throwaway
/// CA, given to the CLI as SSL_CERT_FILE, which .NET's OpenSSL trust honours): credentials as
/// <c>docker login</c> leaves them (DOCKER_CONFIG's config.json) or from a credential helper.
/// </summary>
public sealed class CheckAuthenticationTests(AuthenticatedRegistryFixture fixture, ITestOutputHelper output) : IClassFixture<AuthenticatedRegistryFixture>, IDisposable
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "sl-images.dll");

    private readonly string _home = Directory.CreateTempSubdirectory("sl-check-auth-").FullName;

    private AuthenticatedRegistry Registry => fixture.Registry;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Fact]
    public async Task Works_with_the_credentials_docker_login_writes()
    {
        WriteConfig(new JsonObject { ["auths"] = new JsonObject { [Registry.Host] = new JsonObject { ["auth"] = Basic(AuthenticatedRegistry.User, Registry.Password) } } });

        var result = await CheckAsync(fixture.Chains.App);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"{fixture.Chains.App} (linux/amd64): FRESH: built on the current {fixture.Chains.Coverage} on {fixture.Chains.Aws}", result.StdOut);
        Assert.DoesNotContain(Registry.Password, result.Output);
    }

    [Fact]
    public async Task Fails_clearly_without_credentials()
    {
        var result = await CheckAsync(fixture.Chains.App);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal(
            $"sl-images check: {fixture.Chains.App} (-): {Registry.Host} requires credentials and none are configured for it in {Path.Combine(_home, "config.json")} (run docker login {Registry.Host}, or point DOCKER_CONFIG at a folder whose config.json has them)",
            result.StdErr.Trim());
    }

    [Fact]
    public async Task Wrong_credentials_are_named_by_where_they_came_from_never_by_value()
    {
        WriteConfig(new JsonObject { ["auths"] = new JsonObject { [$"https://{Registry.Host}"] = new JsonObject { ["auth"] = Basic(AuthenticatedRegistry.User, "not-the-password") } } });

        var result = await CheckAsync(fixture.Chains.App);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal($"sl-images check: {fixture.Chains.App} (-): {Registry.Host} refused the credentials from {Path.Combine(_home, "config.json")} (auths) for team/orders (401)", result.StdErr.Trim());
        Assert.DoesNotContain("not-the-password", result.Output);
    }

    [Fact]
    public async Task A_credential_helper_is_asked_with_the_registry_on_standard_input()
    {
        var helpers = Directory.CreateDirectory(Path.Combine(_home, "bin")).FullName;
        var asked = Path.Combine(_home, "helper-asked.txt");
        var helper = Path.Combine(helpers, "docker-credential-sltest");
        // The protocol as docker-credential-ecr-login speaks it: "get", the server on stdin, JSON out.
        File.WriteAllText(helper, $$"""
            #!/bin/sh
            server=$(cat)
            printf '%s %s\n' "$1" "$server" >> '{{asked}}'
            if [ "$1" = get ] && [ "$server" = '{{Registry.Host}}' ]; then
              printf '{"ServerURL":"%s","Username":"{{AuthenticatedRegistry.User}}","Secret":"{{Registry.Password}}"}\n' "$server"
            else
              echo 'credentials not found in native keychain'
              exit 1
            fi
            """.ReplaceLineEndings("\n"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(helper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var path = $"{helpers}:{Environment.GetEnvironmentVariable("PATH")}";
        WriteConfig(new JsonObject { ["credHelpers"] = new JsonObject { [Registry.Host] = "sltest" } });

        var viaHelpers = await CheckAsync(new Dictionary<string, string> { ["PATH"] = path }, fixture.Chains.Coverage);
        WriteConfig(new JsonObject { ["credsStore"] = "sltest" });
        var viaStore = await CheckAsync(new Dictionary<string, string> { ["PATH"] = path }, fixture.Chains.Coverage);
        WriteConfig(new JsonObject { ["credHelpers"] = new JsonObject { [Registry.Host] = "absent" } });
        var absent = await CheckAsync(fixture.Chains.Coverage);

        Assert.Equal(0, viaHelpers.ExitCode);
        Assert.Equal(0, viaStore.ExitCode);
        Assert.Equal([$"get {Registry.Host}", $"get {Registry.Host}"], File.ReadAllLines(asked));
        Assert.Equal(3, absent.ExitCode);
        Assert.Equal($"sl-images check: {fixture.Chains.Coverage} (-): the credential helper docker-credential-absent (credHelpers in {Path.Combine(_home, "config.json")}) is not on PATH", absent.StdErr.Trim());
    }

    [Fact]
    public async Task A_certificate_nothing_trusts_is_refused_not_worked_around_over_plain_HTTP()
    {
        WriteConfig(new JsonObject { ["auths"] = new JsonObject { [Registry.Host] = new JsonObject { ["auth"] = Basic(AuthenticatedRegistry.User, Registry.Password) } } });

        var untrusted = await CheckAsync(new Dictionary<string, string> { ["SSL_CERT_FILE"] = "/dev/null" }, fixture.Chains.App);

        Assert.Equal(3, untrusted.ExitCode);
        Assert.Equal(
            $"sl-images check: {fixture.Chains.App} (-): cannot reach {Registry.Host}: The remote certificate is invalid because of errors in the certificate chain: PartialChain",
            untrusted.StdErr.Trim());
    }

    private void WriteConfig(JsonObject config) => File.WriteAllText(Path.Combine(_home, "config.json"), config.ToJsonString());

    private static string Basic(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    private Task<ProcessResult> CheckAsync(params string[] arguments) => CheckAsync(new Dictionary<string, string>(), arguments);

    private async Task<ProcessResult> CheckAsync(Dictionary<string, string> environment, params string[] arguments)
    {
        environment.TryAdd("DOCKER_CONFIG", _home);
        environment.TryAdd("SSL_CERT_FILE", Registry.Pki.CaCertificateFile);
        var result = await ProcessRunner.RunAsync("dotnet", [Cli, "check", .. arguments], TimeSpan.FromMinutes(1), environment: environment);
        output.WriteLine($"$ sl-images check {string.Join(' ', arguments)}  -> exit {result.ExitCode}\n{result.StdOut}{result.StdErr}");
        return result;
    }
}
