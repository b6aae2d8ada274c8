namespace Sealights.Lambda.Agent.Delivery;

/// <summary>What a spooled batch's execution is, as far as the agent knows (see Delivery/README.md, "Attribution").</summary>
public enum StampKind
{
    /// <summary>The knowledge was older than the refresh interval at the flush: the first answer after it decides.</summary>
    Pending,

    /// <summary>No execution seen yet by this agent: waits for the first one and goes to it as init footprints.</summary>
    BeforeFirstExecution,

    /// <summary>Goes to <see cref="ExecutionStamp.Execution"/>: its route, header and body id.</summary>
    Execution,

    /// <summary>Collected while the lab had no active execution (after one had been seen): dropped.</summary>
    NoExecution,

    /// <summary>Collected after the last flush of an execution pending deletion: dropped.</summary>
    PendingDelete,

    /// <summary>Collector mode: no execution at all, the collector attributes it.</summary>
    Collector,
}

/// <summary>
/// A batch's attribution, fixed when it is decided and never changed by later executions:
/// hits of an execution that ended or changed still go to it, never to the next one.
/// </summary>
/// <param name="Kind">What is known.</param>
/// <param name="Execution">For <see cref="StampKind.Execution"/> (and the dropped kinds, for the log): the execution.</param>
/// <param name="FlushId">The flush the batch came from (a flush of init and later methods gives two batches).</param>
/// <param name="AfterGeneration">For <see cref="StampKind.Pending"/>: decided by an answer newer than this generation.</param>
/// <param name="WaitedForFirst">The batch waited for the first execution: sent as init footprints.</param>
public sealed record ExecutionStamp(StampKind Kind, ActiveExecution? Execution = null, long FlushId = 0, long AfterGeneration = 0, bool WaitedForFirst = false)
{
    /// <summary>Waiting for the execution knowledge (pending, or before the first execution).</summary>
    public bool IsWaiting => Kind is StampKind.Pending or StampKind.BeforeFirstExecution;

    /// <summary>Goes out (to an execution or a collector).</summary>
    public bool IsSendable => Kind is StampKind.Execution or StampKind.Collector;

    /// <summary>Batches with the same destination may share a request.</summary>
    public bool SameDestination(ExecutionStamp other) =>
        Kind == other.Kind
        && (Kind == StampKind.Collector
            || (Execution is { } a && other.Execution is { } b
                && a.ExecutionId == b.ExecutionId && a.BuildSessionId == b.BuildSessionId && a.TestStage == b.TestStage));
}
