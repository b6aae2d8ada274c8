namespace Sealights.Lambda.Emulator.Environment;

/// <summary>
/// A client's blocking "next" call: the event it is waiting for, or the events queued for its
/// next call. Not thread-safe: used under the environment lock.
/// </summary>
internal sealed class NextSlot<T> where T : class
{
    private readonly LinkedList<T> _queued = new();
    private TaskCompletionSource<T>? _waiter;

    /// <summary>The client called next and is blocked in it (it finished its previous work).</summary>
    public bool IsWaiting => _waiter is not null;

    /// <summary>When the client last called next (Stopwatch timestamp).</summary>
    public long LastCallTimestamp { get; private set; }

    public Task<T> Wait(long now)
    {
        LastCallTimestamp = now;
        if (_queued.First is { } first)
        {
            _queued.RemoveFirst();
            return Task.FromResult(first.Value);
        }
        _waiter?.TrySetCanceled();
        _waiter = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        return _waiter.Task;
    }

    public void Deliver(T item)
    {
        if (_waiter is { } waiter)
        {
            _waiter = null;
            waiter.TrySetResult(item);
        }
        else
        {
            _queued.AddLast(item);
        }
    }

    /// <summary>Drops whatever is queued (a SHUTDOWN replaces a pending INVOKE).</summary>
    public void ClearQueued() => _queued.Clear();

    /// <summary>
    /// The client hung up: forget its waiter, and put back an event handed to it in that same
    /// moment, so the next call gets it.
    /// </summary>
    public void Abandon(Task<T> task)
    {
        if (_waiter?.Task == task)
        {
            _waiter = null;
        }
        else if (task.IsCompletedSuccessfully)
        {
            _queued.AddFirst(task.Result);
        }
    }

    public void Cancel()
    {
        _waiter?.TrySetCanceled();
        _waiter = null;
        _queued.Clear();
    }
}
