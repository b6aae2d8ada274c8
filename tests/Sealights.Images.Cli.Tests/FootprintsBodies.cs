using System.Text;
using System.Text.Json.Nodes;

namespace Sealights.Images.Cli.Tests;

/// <summary>Footprints request bodies in the v6 shape the agent sends (src/Sealights.Lambda.Agent/Footprints/FootprintsV6.cs).</summary>
public static class FootprintsBodies
{
    public static JsonObject Document(string[] methods, string? executionId = null, long? start = null, params int[][] hits)
    {
        var now = start ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var entries = new JsonArray();
        foreach (var refs in hits.Length == 0 ? [Enumerable.Range(0, methods.Length).ToArray()] : hits)
        {
            entries.Add(new JsonObject
            {
                ["methods"] = new JsonArray(refs.Select(r => (JsonNode)r).ToArray()),
                ["branches"] = new JsonArray(),
                ["start"] = now,
                ["end"] = now + 1,
                ["testName"] = null,
                ["isInitFootprints"] = false,
                ["isFinalFootprints"] = false,
            });
        }
        var execution = new JsonObject { ["hits"] = entries };
        if (executionId is not null)
        {
            execution["executionId"] = executionId;
        }
        return new JsonObject
        {
            ["formatVersion"] = "6.0",
            ["meta"] = new JsonObject { ["agentId"] = "agent-1", ["labId"] = "lab-1", ["intervals"] = new JsonObject { ["timedFootprintsCollectionIntervalSeconds"] = 10 } },
            ["methods"] = new JsonArray(methods.Select(m => (JsonNode)m).ToArray()),
            ["branches"] = new JsonArray(),
            ["executions"] = new JsonArray(execution),
        };
    }

    public static byte[] Bytes(JsonNode document) => Encoding.UTF8.GetBytes(document.ToJsonString());
}
