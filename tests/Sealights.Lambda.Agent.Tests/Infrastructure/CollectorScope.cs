using System.Collections.Concurrent;
using Sealights.Lambda.Agent.MethodHits;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Tests.Infrastructure;

/// <summary>A collector listening in a fresh private folder, its log captured for the test's output.</summary>
internal sealed class CollectorScope : IAsyncDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly ConcurrentQueue<string> _log = new();
    private volatile bool _outputClosed;

    private CollectorScope(ITestOutputHelper output, string socketDirectory)
    {
        _output = output;
        SocketDirectory = socketDirectory;
    }

    public MethodHitCollector Collector { get; private set; } = null!;

    public string SocketDirectory { get; }

    public IReadOnlyCollection<string> LogLines => _log;

    /// <summary>Starts a collector whose task root is the folder of <paramref name="fixtureAssembly"/>.</summary>
    public static async Task<CollectorScope> StartAsync(ITestOutputHelper output, string fixtureAssembly)
    {
        // Short: a Unix socket path must fit in 107 bytes.
        var directory = Path.Combine(Path.GetTempPath(), "sl-agent-tests", Guid.NewGuid().ToString("N")[..12]);
        var scope = new CollectorScope(output, directory);
        scope.Collector = await MethodHitCollector.StartAsync(
            directory,
            Path.GetDirectoryName(fixtureAssembly)!,
            scope.Log,
            CancellationToken.None);
        return scope;
    }

    /// <summary>Waits until a runtime is connected and traced (its first session started).</summary>
    public async Task WaitForRuntimeAsync()
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!Collector.IsRuntimeConnected)
        {
            if (waited.Elapsed > FixtureProcess.Timeout)
            {
                throw new TimeoutException("no runtime connected to the collector; log:\n" + string.Join("\n", _log));
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Waits until the connected runtime is known to be gone.</summary>
    public async Task WaitForRuntimeGoneAsync()
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Collector.IsRuntimeConnected)
        {
            if (waited.Elapsed > FixtureProcess.Timeout)
            {
                throw new TimeoutException("the collector did not notice the runtime's exit");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Writes to the test output and stdout (the figures must show in CI logs too).</summary>
    public void Print(string line)
    {
        Console.WriteLine(line);
        WriteOutput(line);
    }

    public async ValueTask DisposeAsync()
    {
        await Collector.DisposeAsync();
        _outputClosed = true;
        try
        {
            Directory.Delete(SocketDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private void Log(string line)
    {
        _log.Enqueue(line);
        WriteOutput("agent: " + line);
    }

    private void WriteOutput(string line)
    {
        if (_outputClosed)
        {
            return;
        }

        try
        {
            _output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test has finished; a late background line has nowhere to go.
        }
    }
}
