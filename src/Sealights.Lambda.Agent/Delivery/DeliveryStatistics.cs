namespace Sealights.Lambda.Agent.Delivery;

/// <summary>
/// What footprints delivery did so far. A "batch" is one footprints hits entry (one flush gives
/// one, or two when it holds both init-phase and later methods).
/// </summary>
public sealed record DeliveryStatistics
{
    /// <summary>Batches written to the spool (disk or, when /tmp is unusable, memory).</summary>
    public long BatchesSpooled { get; init; }

    public long MethodsSpooled { get; init; }

    /// <summary>Batches the backend accepted (2xx).</summary>
    public long BatchesSent { get; init; }

    public long MethodsSent { get; init; }

    /// <summary>Footprints requests the backend accepted.</summary>
    public long RequestsSent { get; init; }

    /// <summary>Attempts that failed and will be retried: 408, 429, 5xx, timeouts, connection errors.</summary>
    public long FailedAttempts { get; init; }

    /// <summary>Oldest batches dropped to keep the spool within its size and file caps.</summary>
    public long DroppedSpoolFull { get; init; }

    /// <summary>Batches the backend refused with a 4xx other than 408/429: never retried.</summary>
    public long DroppedRejected { get; init; }

    /// <summary>
    /// Batches that belong to no execution: collected while the lab had none (after one had been
    /// seen), after a pending deletion's last flush, or waiting for the first execution longer than
    /// SL_NO_EXECUTION_HOLD_SECONDS.
    /// </summary>
    public long DroppedNoExecution { get; init; }

    /// <summary>Spool files that could not be read back (corrupt, vanished): removed.</summary>
    public long DroppedUnreadable { get; init; }

    /// <summary>Methods in all dropped batches (where known).</summary>
    public long MethodsDropped { get; init; }

    /// <summary>Queries of the lab's active execution that got an answer or failed.</summary>
    public long ExecutionQueries { get; init; }

    /// <summary>Batches still pending when the drain at SHUTDOWN ended: lost with the environment.</summary>
    public long UndeliveredAtShutdown { get; init; }

    /// <summary>Writes that started a background send (due by the interval, a half-full spool, or final).</summary>
    public long BackgroundSendsKicked { get; init; }

    /// <summary>Batches waiting to be sent.</summary>
    public int PendingBatches { get; init; }

    public long PendingBytes { get; init; }

    /// <summary>Pending batches held in memory because the spool directory could not be written.</summary>
    public int PendingInMemory { get; init; }

    public long BatchesDropped => DroppedSpoolFull + DroppedRejected + DroppedNoExecution + DroppedUnreadable;

    public override string ToString() =>
        $"{BatchesSent} batches ({MethodsSent} methods) sent in {RequestsSent} requests, {PendingBatches} pending"
        + (PendingInMemory > 0 ? $" ({PendingInMemory} in memory)" : "")
        + $", {FailedAttempts} failed attempts, dropped: {DroppedSpoolFull} spool full, {DroppedRejected} refused, "
        + $"{DroppedNoExecution} without execution, {DroppedUnreadable} unreadable ({MethodsDropped} methods)";
}

/// <summary>The live counters behind <see cref="DeliveryStatistics"/>; thread-safe.</summary>
internal sealed class DeliveryCounters
{
    public long BatchesSpooled;
    public long MethodsSpooled;
    public long BatchesSent;
    public long MethodsSent;
    public long RequestsSent;
    public long FailedAttempts;
    public long DroppedSpoolFull;
    public long DroppedRejected;
    public long DroppedNoExecution;
    public long DroppedUnreadable;
    public long MethodsDropped;
    public long ExecutionQueries;
    public long UndeliveredAtShutdown;
    public long BackgroundSendsKicked;

    public static void Add(ref long counter, long value) => Interlocked.Add(ref counter, value);

    public DeliveryStatistics Snapshot(int pending, long pendingBytes, int pendingInMemory) => new()
    {
        BatchesSpooled = Interlocked.Read(ref BatchesSpooled),
        MethodsSpooled = Interlocked.Read(ref MethodsSpooled),
        BatchesSent = Interlocked.Read(ref BatchesSent),
        MethodsSent = Interlocked.Read(ref MethodsSent),
        RequestsSent = Interlocked.Read(ref RequestsSent),
        FailedAttempts = Interlocked.Read(ref FailedAttempts),
        DroppedSpoolFull = Interlocked.Read(ref DroppedSpoolFull),
        DroppedRejected = Interlocked.Read(ref DroppedRejected),
        DroppedNoExecution = Interlocked.Read(ref DroppedNoExecution),
        DroppedUnreadable = Interlocked.Read(ref DroppedUnreadable),
        MethodsDropped = Interlocked.Read(ref MethodsDropped),
        ExecutionQueries = Interlocked.Read(ref ExecutionQueries),
        UndeliveredAtShutdown = Interlocked.Read(ref UndeliveredAtShutdown),
        BackgroundSendsKicked = Interlocked.Read(ref BackgroundSendsKicked),
        PendingBatches = pending,
        PendingBytes = pendingBytes,
        PendingInMemory = pendingInMemory,
    };
}

/// <summary>Logs a message the first time its key is seen; later occurrences are only counted elsewhere.</summary>
internal sealed class OnceLog
{
    private readonly HashSet<string> _seen = [];

    public bool First(string key)
    {
        lock (_seen)
        {
            return _seen.Add(key);
        }
    }
}
