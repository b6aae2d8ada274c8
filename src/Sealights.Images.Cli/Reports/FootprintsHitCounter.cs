using Sealights.Images.Cli.Collector;

namespace Sealights.Images.Cli.Reports;

/// <summary>
/// Counts, from stored footprints requests, how many hits entries named each method, overall and
/// per test execution (the body's <c>executionId</c>, else the one the collector filed it under).
/// </summary>
public sealed class FootprintsHitCounter
{
    public const string NoExecution = "(no execution)";

    public Dictionary<string, int> All { get; } = new(StringComparer.Ordinal);

    /// <summary>Per execution, in the order they were first received.</summary>
    public Dictionary<string, (Dictionary<string, int> Hits, int Requests)> ByExecution { get; } = new(StringComparer.Ordinal);

    public List<string> ExecutionOrder { get; } = [];

    public int Requests { get; private set; }

    /// <summary>Stored records whose body is not a footprints document (not from this collector), with the reason.</summary>
    public List<string> Invalid { get; } = [];

    public void Add(StoredRecord record)
    {
        if (FootprintsDocument.TryRead(record.Body, out var problem) is not { } document)
        {
            Invalid.Add(problem!);
            return;
        }
        Requests++;
        var counted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var execution in document.Executions)
        {
            var executionId = execution.ExecutionId ?? record.ExecutionId ?? NoExecution;
            if (!ByExecution.TryGetValue(executionId, out var perExecution))
            {
                perExecution = (new Dictionary<string, int>(StringComparer.Ordinal), 0);
                ExecutionOrder.Add(executionId);
            }
            if (counted.Add(executionId))
            {
                perExecution.Requests++;
            }
            foreach (var hits in execution.Hits)
            {
                foreach (var id in hits.Methods.Select(i => document.Methods[i]).Distinct(StringComparer.Ordinal))
                {
                    All[id] = All.GetValueOrDefault(id) + 1;
                    perExecution.Hits[id] = perExecution.Hits.GetValueOrDefault(id) + 1;
                }
            }
            ByExecution[executionId] = perExecution;
        }
    }
}
