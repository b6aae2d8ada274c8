using Sealights.Coverage.Tokens;
using Sealights.Images.Testing;

namespace Sealights.Images.Cli.Tests;

/// <summary><c>sl-images local-token</c>: a token the agent takes, addressed to the local collector.</summary>
public sealed class LocalTokenCommandTests
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "sl-images.dll");

    [Fact]
    public async Task The_token_passes_the_agents_checks_and_names_the_collector_as_its_server()
    {
        var result = await ProcessRunner.RunAsync("dotnet", [Cli, "local-token", "--collector", "127.0.0.1:8770"], TimeSpan.FromMinutes(1));

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.True(SealightsToken.TryParse(result.StdOut.Trim(), out var token, out var problem), problem);
        Assert.Equal("http://127.0.0.1:8770/api", token.Server.ToString().TrimEnd('/'));
    }

    [Fact]
    public async Task An_address_without_a_port_is_bad_input()
    {
        var result = await ProcessRunner.RunAsync("dotnet", [Cli, "local-token", "--collector", "127.0.0.1"], TimeSpan.FromMinutes(1));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("expected IP:PORT", result.StdErr, StringComparison.Ordinal);
    }
}
