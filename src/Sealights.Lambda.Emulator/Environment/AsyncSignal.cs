namespace Sealights.Lambda.Emulator.Environment;

/// <summary>
/// A pulse for "something changed, look again". Read <see cref="Next"/> and call
/// <see cref="Pulse"/> under the same lock, so that no change is ever missed.
/// </summary>
internal sealed class AsyncSignal
{
    private TaskCompletionSource _next = New();

    public Task Next => _next.Task;

    public void Pulse()
    {
        var current = _next;
        _next = New();
        current.TrySetResult();
    }

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
