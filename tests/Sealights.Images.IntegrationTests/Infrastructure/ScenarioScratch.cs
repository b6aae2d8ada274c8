using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.IntegrationTests.Infrastructure;

/// <summary>
/// What one backend-and-function test owns: a scratch folder, a loopback port for its stand-in
/// backend, and what it started (backends, containers, proxies), disposed last-first before the
/// folder goes.
/// </summary>
public sealed class ScenarioScratch(string prefix) : IDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory(prefix).FullName;

    public int BackendPort { get; } = FreePorts.Next();

    /// <summary>Disposed with the scratch, after everything started later.</summary>
    public T Own<T>(T resource)
        where T : IAsyncDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    public void Dispose()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            owned.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>Polls every 50 ms until <paramref name="condition"/> holds; on a timeout the container's log goes to the test output first.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, LambdaContainer container, ITestOutputHelper output, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                output.WriteLine(await container.LogsAsync());
                Assert.Fail($"{what} did not arrive in {timeout.TotalSeconds:0} s");
            }
            await Task.Delay(50);
        }
    }
}
