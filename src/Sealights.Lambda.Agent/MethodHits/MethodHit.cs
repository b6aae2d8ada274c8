using Sealights.Coverage;

namespace Sealights.Lambda.Agent.MethodHits;

/// <summary>
/// A source method the function's runtime ran, reported once per runtime process.
/// <see cref="FirstSeen"/> is the runtime's event timestamp (UTC) of its first call: the JIT
/// starting to compile it, or the first call into its ReadyToRun code. A method known only from
/// rundown (first called before the agent's first session with that runtime began) gets that
/// session's start time, the earliest time the trace covers: its real first call was at or
/// before it, after the process started.
/// </summary>
/// <param name="Method">The source method's identity (state machines count as their kickoff method).</param>
/// <param name="FirstSeen">When the runtime first called it, from the event's timestamp.</param>
/// <param name="LastSeen">
/// Probe hits only: the method ran at least once between <see cref="FirstSeen"/> (the start of
/// the interval the flush covers: its invocation's INVOKE) and this (the flush's harvest). Null for
/// first-execution hits, whose time is exact.
/// </param>
public sealed record MethodHit(MethodIdentity Method, DateTimeOffset FirstSeen, DateTimeOffset? LastSeen = null);
