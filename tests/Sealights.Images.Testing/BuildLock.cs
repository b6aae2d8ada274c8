namespace Sealights.Images.Testing;

/// <summary>
/// One build at a time in the test process: xunit runs collections in parallel, and two
/// `dotnet publish` runs of the same project share its obj/ folder (a NativeAOT link or a
/// compile then fails at random).
/// </summary>
public static class BuildLock
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    public static async Task<T> RunAsync<T>(Func<Task<T>> build)
    {
        await Gate.WaitAsync();
        try
        {
            return await build();
        }
        finally
        {
            Gate.Release();
        }
    }
}
