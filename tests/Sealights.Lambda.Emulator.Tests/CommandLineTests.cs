using Sealights.Lambda.Emulator.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Emulator.Tests;

/// <summary>RIE's command line, and this project's environment fallbacks.</summary>
public sealed class CommandLineTests(ITestOutputHelper output) : IDisposable
{
    private readonly FunctionSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Theory]
    [InlineData("--runtime-api-address", "no-port-here", "is not HOST:PORT")]
    [InlineData("--runtime-interface-emulator-address", "127.0.0.1:99999", "is not a port number")]
    [InlineData("--log-level", "chatty", "unknown level")]
    public async Task An_invalid_setting_exits_non_zero_with_a_clear_error(string flag, string value, string message)
    {
        var runtime = _sandbox.AddRuntime("echo_loop");
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, new EmulatorStart
        {
            Flags = [flag, value],
        }, output, waitUntilReady: false);

        Assert.True(await emulator.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.NotEqual(0, emulator.ExitCode);
        Assert.Contains(emulator.Stderr, l => l.Contains(flag, StringComparison.Ordinal) && l.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Addresses_fall_back_to_the_environment_flags_win_and_unknown_flags_are_ignored()
    {
        var runtime = _sandbox.AddRuntime("echo_loop");
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, new EmulatorStart
        {
            PassAddressFlags = false,
            // The invoke address comes from the flag (the env's would not even parse); the Runtime API's from the env.
            Flags = ["--runtime-interface-emulator-address", "127.0.0.1:0", "--enable-something-rie-has"],
            Environment = new Dictionary<string, string>
            {
                ["SL_EMULATOR_ADDRESS"] = "not an address",
                ["SL_EMULATOR_RUNTIME_API_ADDRESS"] = "127.0.0.1:0",
            },
        }, output);

        var response = await emulator.InvokeAsync("hi", functionName: "any-name-works");

        Assert.Equal("hi", response.Body);
        Assert.Contains(emulator.Stderr, l => l.Contains("ignoring unknown flag --enable-something-rie-has", StringComparison.Ordinal));
    }
}
