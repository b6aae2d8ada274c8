namespace Sealights.Lambda.Agent.Footprints;

/// <summary>
/// One <c>hits</c> entry of a footprints document: source methods first executed in one flush,
/// with the span of their event timestamps. The unit the spool stores and the sender ships.
/// </summary>
/// <param name="Methods">Method unique ids (<c>Sealights.Coverage</c> format), each once.</param>
/// <param name="StartMs">Earliest event timestamp of these methods, Unix epoch milliseconds.</param>
/// <param name="EndMs">Latest event timestamp of these methods, Unix epoch milliseconds.</param>
/// <param name="IsInit">The methods ran before the environment's first INVOKE (init phase).</param>
/// <param name="IsFinal">The entry comes from the SHUTDOWN flush.</param>
public sealed record FootprintsHits(IReadOnlyList<string> Methods, long StartMs, long EndMs, bool IsInit, bool IsFinal);
