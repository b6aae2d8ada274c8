using System.Globalization;

namespace Sealights.Lambda.Emulator.Hosting;

/// <summary>
/// The function as Lambda would describe it, from the container's environment (with RIE's
/// defaults), and the environments the runtime and the extensions are started with.
/// </summary>
internal sealed class FunctionConfiguration
{
    public const string AccountId = "012345678912";

    private static readonly string[] HiddenFromExtensions =
        ["_HANDLER", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "AWS_EXECUTION_ENV"];

    private readonly IReadOnlyDictionary<string, string> _container;

    private FunctionConfiguration(IReadOnlyDictionary<string, string> container)
    {
        _container = container;
    }

    public string Name { get; private init; } = "test_function";

    public string Version { get; private init; } = "$LATEST";

    public int MemorySizeMb { get; private init; } = 3008;

    public int TimeoutSeconds { get; private init; } = 300;

    public string Region { get; private init; } = "us-east-1";

    /// <summary>The handler: the command line's, else _HANDLER from the environment, else empty.</summary>
    public string Handler { get; private init; } = "";

    public string LogGroupName => $"/aws/lambda/{Name}";

    public string LogStreamName { get; private init; } = "";

    public string InvokedFunctionArn => $"arn:aws:lambda:{Region}:{AccountId}:function:{Name}";

    public IReadOnlyList<string> Warnings { get; private init; } = [];

    public static FunctionConfiguration FromEnvironment(IReadOnlyDictionary<string, string> environment, string? commandLineHandler)
    {
        var warnings = new List<string>();
        string? Get(string name) => environment.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v : null;
        int PositiveInt(string name, int fallback)
        {
            var text = Get(name);
            if (text is null)
            {
                return fallback;
            }
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0)
            {
                return value;
            }
            warnings.Add($"{name}='{text}' is not a positive integer; using {fallback}");
            return fallback;
        }

        var now = DateTime.UtcNow;
        return new FunctionConfiguration(environment)
        {
            Name = Get("AWS_LAMBDA_FUNCTION_NAME") ?? "test_function",
            Version = Get("AWS_LAMBDA_FUNCTION_VERSION") ?? "$LATEST",
            MemorySizeMb = PositiveInt("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 3008),
            TimeoutSeconds = PositiveInt("AWS_LAMBDA_FUNCTION_TIMEOUT", 300),
            Region = Get("AWS_REGION") ?? Get("AWS_DEFAULT_REGION") ?? "us-east-1",
            Handler = commandLineHandler ?? Get("_HANDLER") ?? "",
            LogStreamName = $"{now:yyyy'/'MM'/'dd}/[$LATEST]{Guid.NewGuid():N}",
            Warnings = warnings,
        };
    }

    /// <summary>The container's environment, Lambda's variables filled in, pointed at our Runtime API.</summary>
    public Dictionary<string, string> RuntimeEnvironment(string runtimeApi)
    {
        var env = new Dictionary<string, string>(_container, StringComparer.Ordinal);
        void Default(string name, string value)
        {
            if (!env.TryGetValue(name, out var existing) || string.IsNullOrEmpty(existing))
            {
                env[name] = value;
            }
        }
        Default("AWS_LAMBDA_FUNCTION_NAME", Name);
        Default("AWS_LAMBDA_FUNCTION_VERSION", Version);
        Default("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", MemorySizeMb.ToString(CultureInfo.InvariantCulture));
        Default("AWS_REGION", Region);
        Default("AWS_DEFAULT_REGION", Region);
        Default("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
        env["AWS_LAMBDA_LOG_GROUP_NAME"] = LogGroupName;
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = LogStreamName;
        env["AWS_LAMBDA_RUNTIME_API"] = runtimeApi;
        if (Handler.Length > 0)
        {
            env["_HANDLER"] = Handler;
        }
        return env;
    }

    /// <summary>What an external extension sees: the runtime's environment less what Lambda hides from extensions.</summary>
    public Dictionary<string, string> ExtensionEnvironment(string runtimeApi)
    {
        var env = RuntimeEnvironment(runtimeApi);
        foreach (var name in HiddenFromExtensions)
        {
            env.Remove(name);
        }
        foreach (var name in env.Keys.Where(k => k.StartsWith("AWS_LAMBDA_LOG_", StringComparison.Ordinal)).ToList())
        {
            env.Remove(name);
        }
        return env;
    }
}
