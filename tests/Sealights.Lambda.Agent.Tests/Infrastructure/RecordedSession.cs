using Microsoft.Diagnostics.NETCore.Client;

namespace Sealights.Lambda.Agent.Tests.Infrastructure;

/// <summary>
/// One real EventPipe session whose stream is kept byte for byte, so two readers can be run on
/// the same bytes afterwards. The stream is drained on a thread of its own from the start, as
/// the agent does, unless <c>holdReading</c> asks to leave it unread until <see cref="ReleaseReading"/>
/// (the runtime's buffers then fill and it drops events: a stream with lost events).
/// </summary>
internal sealed class RecordedSession : IDisposable
{
    private readonly EventPipeSession _session;
    private readonly MemoryStream _bytes = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _copy;

    private RecordedSession(EventPipeSession session, bool holdReading)
    {
        _session = session;
        if (!holdReading)
        {
            _release.SetResult();
        }

        _copy = Task.Run(async () =>
        {
            await _release.Task;
            await _session.EventStream.CopyToAsync(_bytes);
        });
    }

    public static Task<RecordedSession> StartAsync(DiagnosticsClient client, EventPipeSessionConfiguration configuration, bool holdReading = false) =>
        StartAsync(client, [configuration], holdReading);

    /// <summary>Starts the first of <paramref name="configurations"/> the runtime accepts, as the agent does (.NET 8 refuses the newer commands).</summary>
    public static async Task<RecordedSession> StartAsync(DiagnosticsClient client, IReadOnlyList<EventPipeSessionConfiguration> configurations, bool holdReading = false)
    {
        using var timeout = new CancellationTokenSource(FixtureProcess.Timeout);
        for (var i = 0; ; i++)
        {
            try
            {
                return new RecordedSession(await client.StartEventPipeSessionAsync(configurations[i], timeout.Token), holdReading);
            }
            catch (DiagnosticsClientException) when (i < configurations.Count - 1)
            {
            }
        }
    }

    public void ReleaseReading() => _release.TrySetResult();

    /// <summary>Stops the session (the runtime flushes its buffers, then the rundown if asked) and returns the whole stream.</summary>
    public async Task<byte[]> StopAsync()
    {
        using var timeout = new CancellationTokenSource(FixtureProcess.Timeout);
        ReleaseReading();
        await _session.StopAsync(timeout.Token);
        await _copy.WaitAsync(timeout.Token);
        return _bytes.ToArray();
    }

    public void Dispose()
    {
        _session.Dispose();
        _bytes.Dispose();
    }
}
