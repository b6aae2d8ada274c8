namespace Sealights.Lambda.Emulator.Environment;

/// <summary>An invoke dispatched into the environment, with the timestamps REPORT is made of.</summary>
internal sealed class Invocation
{
    public Invocation(InvokeRequest request, double? initDurationMs, long dispatchTimestamp, long deadlineTimestamp, long deadlineEpochMs)
    {
        Request = request;
        InitDurationMs = initDurationMs;
        DispatchTimestamp = dispatchTimestamp;
        DeadlineTimestamp = deadlineTimestamp;
        DeadlineEpochMs = deadlineEpochMs;
    }

    public InvokeRequest Request { get; }

    public string RequestId => Request.RequestId;

    /// <summary>The init this invoke waited for (a cold start), else null.</summary>
    public double? InitDurationMs { get; }

    public long DispatchTimestamp { get; }

    public long DeadlineTimestamp { get; }

    public long DeadlineEpochMs { get; }

    /// <summary>The runtime posted its response or error (or was cut short by a failure).</summary>
    public bool RuntimeDone { get; set; }

    public long? RuntimeDoneTimestamp { get; set; }

    /// <summary>Telemetry status of the runtime's part: success or error.</summary>
    public string RuntimeStatus { get; set; } = "success";

    public string? ErrorType { get; set; }

    public long ProducedBytes { get; set; }
}
