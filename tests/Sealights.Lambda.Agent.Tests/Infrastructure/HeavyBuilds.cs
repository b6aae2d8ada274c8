namespace Sealights.Lambda.Agent.Tests.Infrastructure;

/// <summary>
/// Tests that compile (a 101k-method assembly, crossgen2) take both cores for tens of seconds:
/// they run on their own, after the parallel ones, so the wrapper and lifecycle tests that
/// measure a few hundred milliseconds never share the machine with them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyBuilds
{
    public const string Name = "heavy builds";
}
