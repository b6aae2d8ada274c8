using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Sealights.Lambda.Agent.Delivery;

/// <summary>The agent event codes this agent sends (slnodejs 6.1.1133's numbers).</summary>
public enum AgentEventType
{
    Started = 1001,
    Shutdown = 1002,
    Ping = 1003,
    ExecutionFound = 1006,
    NoExecution = 1007,
    FirstFootprints = 1010,
    FootprintsNotSubmitted = 4006,
}

/// <summary>
/// The body of <c>POST {server}/v3/agents/agent-events/</c>, one event per request as slnodejs sends them:
/// <c>{"agentId","events":[{"type","utcTimestamp_ms","difftime":0,"data"?}],"appName"?,"buildSessionId"}</c>.
/// Written by hand with <see cref="Utf8JsonWriter"/> (NativeAOT: no reflection). Nothing here ever
/// holds the token or the function's environment.
/// </summary>
public static class AgentEvents
{
    /// <summary>One event of <paramref name="type"/> at <paramref name="at"/>, with its <c>data</c> for 1001, 1003 and 4006.</summary>
    public static byte[] Body(AgentEventType type, DateTimeOffset at, DeliveryOptions options, AgentMetadata metadata, LambdaFacts? facts = null)
    {
        using var buffer = new MemoryStream(type == AgentEventType.Started ? 1024 : 192);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("agentId", options.AgentId);
            json.WriteStartArray("events");
            json.WriteStartObject();
            json.WriteNumber("type", (int)type);
            json.WriteNumber("utcTimestamp_ms", at.ToUnixTimeMilliseconds());
            json.WriteNumber("difftime", 0);
            switch (type)
            {
                case AgentEventType.Started:
                    json.WritePropertyName("data");
                    WriteStarted(json, at, options, metadata, facts ?? LambdaFacts.Unknown);
                    break;
                case AgentEventType.Ping:
                    json.WriteStartObject("data");
                    json.WriteStartObject("agentInfo");
                    json.WriteString("labId", options.LabId);
                    json.WriteEndObject();
                    json.WriteEndObject();
                    break;
                case AgentEventType.FootprintsNotSubmitted:
                    json.WriteStartObject("data");
                    json.WriteEndObject();
                    break;
            }
            json.WriteEndObject();
            json.WriteEndArray();
            AgentMetadata.WriteIfKnown(json, "appName", metadata.AppName);
            json.WriteString("buildSessionId", options.BuildSessionId);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    // agentInfo, machineInfo, techSpecificInfo, ciInfo as slnodejs' 1001 has them, minus what a
    // Lambda extension must not or cannot send: agentConfig (holds the token), envVars (the
    // function's secrets), argv/cwd (the launcher's, meaningless), ipAddress (the sandbox's).
    private static void WriteStarted(Utf8JsonWriter json, DateTimeOffset at, DeliveryOptions options, AgentMetadata metadata, LambdaFacts facts)
    {
        json.WriteStartObject();
        json.WriteStartObject("agentInfo");
        json.WriteString("agentId", options.AgentId);
        json.WriteString("agentType", AgentMetadata.AgentType);
        json.WriteString("agentVersion", AgentMetadata.AgentVersion);
        json.WriteString("technology", AgentMetadata.Technology);
        json.WriteStartArray("tags");
        json.WriteEndArray();
        json.WriteBoolean("sendsPing", true);
        json.WriteString("buildSessionId", options.BuildSessionId);
        json.WriteString("labId", options.LabId);
        AgentMetadata.WriteIfKnown(json, "testStage", options.TestStage);
        json.WriteNumber("processId", Environment.ProcessId);
        json.WriteString("processArch", LambdaFacts.ArchitectureName(RuntimeInformation.ProcessArchitecture));
        json.WriteEndObject();

        json.WriteStartObject("machineInfo");
        json.WriteString("machineName", Environment.MachineName);
        AgentMetadata.WriteIfKnown(json, "cpu", facts.Cpu);
        AgentMetadata.WriteIfKnown(json, "totalMemory", facts.TotalMemory);
        json.WriteString("arch", LambdaFacts.ArchitectureName(RuntimeInformation.OSArchitecture));
        json.WriteString("os", "linux");
        // As a JavaScript Date prints itself (slnodejs' shape), in UTC: "Sun Dec 06 2026 18:24:18 GMT+0000 (Coordinated Universal Time)".
        json.WriteString("localDateTime", at.UtcDateTime.ToString("ddd MMM dd yyyy HH:mm:ss 'GMT+0000 (Coordinated Universal Time)'", CultureInfo.InvariantCulture));
        // Named seconds, but slnodejs sends milliseconds here; so does this agent.
        json.WriteNumber("localDateTimeUnix_s", at.ToUnixTimeMilliseconds());
        json.WriteString("runtime", RuntimeInformation.FrameworkDescription);
        json.WriteEndObject();

        json.WriteStartObject("techSpecificInfo");
        json.WriteString("host", "aws-lambda-extension");
        AgentMetadata.WriteIfKnown(json, "functionName", facts.FunctionName);
        AgentMetadata.WriteIfKnown(json, "functionVersion", facts.FunctionVersion);
        if (facts.MemorySizeMb is { } memory)
        {
            json.WriteNumber("memorySizeMB", memory);
        }
        json.WriteString("architecture", LambdaFacts.ArchitectureName(RuntimeInformation.OSArchitecture));
        AgentMetadata.WriteIfKnown(json, "region", facts.Region);
        AgentMetadata.WriteIfKnown(json, "initializationType", facts.InitializationType);
        AgentMetadata.WriteIfKnown(json, "executionEnvironment", facts.ExecutionEnvironment);
        AgentMetadata.WriteIfKnown(json, "dotnetVersion", facts.DotnetVersion);
        AgentMetadata.WriteIfKnown(json, "imageDigest", facts.ImageDigest);
        json.WriteString("agentRuntime", RuntimeInformation.FrameworkDescription + " NativeAOT");
        json.WriteEndObject();

        json.WriteStartObject("ciInfo");
        json.WriteEndObject();
        json.WriteEndObject();
    }
}

/// <summary>
/// What the start event says about the function: from Lambda's reserved environment variables,
/// which extensions see (<c>AWS_LAMBDA_FUNCTION_NAME</c>, <c>_VERSION</c>, <c>_MEMORY_SIZE</c>,
/// <c>AWS_REGION</c>, <c>AWS_LAMBDA_INITIALIZATION_TYPE</c>, <c>AWS_EXECUTION_ENV</c>), the
/// framework the function targets (its <c>*.runtimeconfig.json</c> under the task root), and the
/// machine (<c>/proc</c>). Never a dump of the environment: only these named values.
/// Read in the background at the first INVOKE, never on the init path.
/// </summary>
public sealed record LambdaFacts(
    string? FunctionName,
    string? FunctionVersion,
    int? MemorySizeMb,
    string? Region,
    string? InitializationType,
    string? ExecutionEnvironment,
    string? DotnetVersion,
    string? ImageDigest,
    string? Cpu,
    string? TotalMemory)
{
    public static readonly LambdaFacts Unknown = new(null, null, null, null, null, null, null, null, null, null);

    public static LambdaFacts Read(Func<string, string?> env, string taskRoot) => new(
        NonEmpty(env("AWS_LAMBDA_FUNCTION_NAME")),
        NonEmpty(env("AWS_LAMBDA_FUNCTION_VERSION")),
        int.TryParse(env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), NumberStyles.None, CultureInfo.InvariantCulture, out var memory) ? memory : null,
        NonEmpty(env("AWS_REGION")),
        NonEmpty(env("AWS_LAMBDA_INITIALIZATION_TYPE")),
        NonEmpty(env("AWS_EXECUTION_ENV")),
        TargetFramework(taskRoot),
        // Lambda tells a function nothing of its image, and an image cannot hold its own digest:
        // only a build that writes it to sealights.json (SL_IMAGE_DIGEST) could say; none does yet.
        NonEmpty(env("SL_IMAGE_DIGEST")),
        CpuModel(),
        TotalMemoryText());

    public static string ArchitectureName(Architecture architecture) => architecture switch
    {
        Architecture.X64 => "x64",
        Architecture.Arm64 => "arm64",
        _ => architecture.ToString().ToLowerInvariant(),
    };

    /// <summary>The shared framework the function runs on (<c>Microsoft.NETCore.App</c> version from its runtimeconfig.json), when it has one.</summary>
    internal static string? TargetFramework(string taskRoot)
    {
        try
        {
            foreach (var file in Directory.EnumerateFiles(taskRoot, "*.runtimeconfig.json").Order(StringComparer.Ordinal))
            {
                using var document = JsonDocument.Parse(File.ReadAllBytes(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
                if (!document.RootElement.TryGetProperty("runtimeOptions", out var runtime) || runtime.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }
                var frameworks = new List<JsonElement>();
                if (runtime.TryGetProperty("framework", out var single) && single.ValueKind == JsonValueKind.Object)
                {
                    frameworks.Add(single);
                }
                if (runtime.TryGetProperty("frameworks", out var many) && many.ValueKind == JsonValueKind.Array)
                {
                    frameworks.AddRange(many.EnumerateArray().Where(f => f.ValueKind == JsonValueKind.Object));
                }
                foreach (var framework in frameworks)
                {
                    if (framework.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String && name.GetString() == "Microsoft.NETCore.App"
                        && framework.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.String)
                    {
                        return version.GetString();
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            // Unknown, then: the event leaves it out.
        }
        return null;
    }

    private static string? CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? null : NonEmpty(line[(line.IndexOf(':') + 1)..]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? TotalMemoryText()
    {
        var bytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return bytes > 0 ? (bytes / (1024.0 * 1024 * 1024)).ToString("0.###", CultureInfo.InvariantCulture) + " Gb" : null;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
