using System.Diagnostics;

namespace Sealights.Lambda.Agent.Tests.Fuzzing;

/// <summary>One fuzz target: what it reads, its seeds, and its oracle (it throws on a finding).</summary>
internal interface IFuzzTarget
{
    string Name { get; }

    /// <summary>The corpus folder under Fuzzing/corpus.</summary>
    string Corpus { get; }

    int MaxInputLength { get; }

    /// <summary>Most bytes one input may allocate on the calling thread (beyond this, a claimed size was believed).</summary>
    long AllocationLimit(byte[] input);

    /// <summary>Feeds the input; returns normally when the agent's side behaved as documented, throws otherwise.</summary>
    void Run(byte[] input);
}

/// <summary>What a run found: inputs run, distinct findings (by exception type and throwing method) with their first input.</summary>
internal sealed record FuzzReport(string Target, int Inputs, TimeSpan Elapsed, IReadOnlyDictionary<string, (Exception Error, byte[] Input)> Findings)
{
    public override string ToString() =>
        $"{Target}: {Inputs} inputs in {Elapsed.TotalSeconds:0.0} s, {Findings.Count} distinct findings"
        + string.Concat(Findings.Select(f => $"\n  {f.Key}: {f.Value.Error.Message}\n    input (hex): {Convert.ToHexString(f.Value.Input.AsSpan(0, Math.Min(f.Value.Input.Length, 512)))}{(f.Value.Input.Length > 512 ? "…" : "")}"));
}

internal static class FuzzRunner
{
    public static IReadOnlyList<byte[]> Seeds(IFuzzTarget target)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Fuzzing", "corpus", target.Corpus);
        var seeds = Directory.GetFiles(folder).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();
        return seeds.Count > 0 ? seeds : throw new InvalidOperationException($"no seeds in {folder}");
    }

    /// <summary>Runs the seeds as they are, then <paramref name="inputs"/> mutated ones; each finding's input is saved under <paramref name="findingsFolder"/>.</summary>
    public static FuzzReport Run(IFuzzTarget target, int inputs, int seed, string findingsFolder)
    {
        var seeds = Seeds(target);
        var mutator = new Mutator(seeds, seed, target.MaxInputLength);
        var findings = new Dictionary<string, (Exception, byte[])>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        var run = 0;
        foreach (var input in seeds.Concat(Enumerable.Range(0, inputs).Select(_ => mutator.Next())))
        {
            run++;
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            Exception? error = null;
            try
            {
                target.Run(input);
            }
            catch (Exception e)
            {
                error = e;
            }
            var cost = GC.GetAllocatedBytesForCurrentThread() - allocated;
            if (error is null && cost > target.AllocationLimit(input))
            {
                error = new FuzzFinding("allocation over the limit", $"{cost} bytes allocated for a {input.Length}-byte input");
            }
            if (error is not null)
            {
                var key = error is FuzzFinding finding ? finding.Kind : $"{error.GetType().Name} in {AgentFrame(error)}";
                if (findings.TryAdd(key, (error, input)))
                {
                    Directory.CreateDirectory(findingsFolder);
                    File.WriteAllBytes(Path.Combine(findingsFolder, $"{target.Name}-{findings.Count}.bin"), input);
                }
            }
        }
        return new FuzzReport(target.Name, run, clock.Elapsed, findings);
    }

    /// <summary>The project's innermost method the exception passed through: where it should have been handled.</summary>
    private static string AgentFrame(Exception error) =>
        (error.StackTrace ?? "").Split('\n').Select(line => line.Trim())
            .FirstOrDefault(line => line.StartsWith("at Sealights.", StringComparison.Ordinal) && !line.Contains(".Tests.", StringComparison.Ordinal)) is { } frame
            ? frame[3..frame.IndexOf('(', StringComparison.Ordinal)]
            : error.TargetSite?.Name ?? "?";
}

/// <summary>An oracle's verdict: the input broke a documented rule; <paramref name="kind"/> groups repeats.</summary>
internal sealed class FuzzFinding(string kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Kind { get; } = kind;
}
