using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Tests.Infrastructure;

/// <summary>
/// A collector and a fixture process started against it, returned once the fixture is ready and
/// its runtime is connected and traced; disposed in the reverse order (the process, then the collector).
/// </summary>
internal sealed class ConnectedFixture : IAsyncDisposable
{
    private ConnectedFixture(CollectorScope scope, FixtureProcess process)
    {
        Scope = scope;
        Process = process;
    }

    public CollectorScope Scope { get; }

    public FixtureProcess Process { get; }

    /// <summary>Starts the pair; <paramref name="scenario"/> and <paramref name="noInline"/> as <see cref="FixtureProcess.Start"/> takes them.</summary>
    public static async Task<ConnectedFixture> StartAsync(ITestOutputHelper output, string assembly, string scenario, bool noInline = true)
    {
        var scope = await CollectorScope.StartAsync(output, assembly);
        FixtureProcess? process = null;
        try
        {
            process = FixtureProcess.Start(assembly, scenario, scope.Collector.RuntimePortSetting, noInline);
            await process.WaitForLineAsync("ready");
            await scope.WaitForRuntimeAsync();
            return new ConnectedFixture(scope, process);
        }
        catch
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }

            await scope.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        await Scope.DisposeAsync();
    }
}
