using Sealights.Coverage.Tokens;
using System.Globalization;
using System.Text.Json;
using Sealights.Lambda.Agent.Configuration;

namespace Sealights.Lambda.Agent.Delivery;

/// <summary>
/// Where and how footprints are delivered: read once at start from the extension's environment
/// and from <c>sealights.json</c> under the task root (extensions do not see the function's
/// handler variables, but can read its files; a build can drop the file there). For every
/// setting the environment wins over the file. Every variable is listed in Delivery/README.md.
/// </summary>
public sealed record DeliveryOptions
{
    public const string ConfigFileName = "sealights.json";

    /// <summary>Used when neither SL_TEST_STAGE nor the lab's active execution names a test stage.</summary>
    public const string DefaultTestStage = "Functional Tests";

    public const string DefaultSpoolDirectory = "/tmp/.sealights-agent/spool";

    private const string Prefix = "footprints delivery";

    /// <summary>The build session id (bsid) footprints belong to.</summary>
    public required string BuildSessionId { get; init; }

    /// <summary>The lab whose active test execution footprints are attributed to; defaults to the bsid.</summary>
    public required string LabId { get; init; }

    /// <summary>SL_TEST_STAGE, or null: then the active execution's test stage, else <see cref="DefaultTestStage"/>.</summary>
    public string? TestStage { get; init; }

    /// <summary>Base address of every route: SL_COLLECTOR_URL when set, else the token's <c>x-sl-server</c>.</summary>
    public required Uri BaseAddress { get; init; }

    /// <summary>True when <see cref="BaseAddress"/> is a collector (SL_COLLECTOR_URL): the collector route is used.</summary>
    public bool UsesCollector { get; init; }

    /// <summary>SL_PROXY without credentials; null means the runtime's defaults (HTTPS_PROXY, NO_PROXY…).</summary>
    public Uri? Proxy { get; init; }

    /// <summary>User and password from SL_PROXY's user-info, never logged.</summary>
    public (string User, string Password)? ProxyCredentials { get; init; }

    /// <summary>SL_EXECUTION_ID: a fixed execution id; the active execution is then never queried.</summary>
    public string? FixedExecutionId { get; init; }

    /// <summary>Unique per agent process; sent as <c>meta.agentId</c> and <c>x-sl-agentId</c>.</summary>
    public string AgentId { get; init; } = Guid.NewGuid().ToString();

    public string SpoolDirectory { get; init; } = DefaultSpoolDirectory;

    public long SpoolMaxBytes { get; init; } = 16L * 1024 * 1024;

    public int SpoolMaxFiles { get; init; } = 1000;

    /// <summary>When the spool directory cannot be written (/tmp full): at most this much is kept in memory.</summary>
    public long MemoryMaxBytes { get; init; } = 4L * 1024 * 1024;

    /// <summary>Longest one HTTP request may take (also bounded by any budget or deadline).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Default budget of <see cref="FootprintsDelivery.SendPendingAsync"/>: post-runtime work per invoke.</summary>
    public TimeSpan FlushBudget { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// With the Telemetry API, an invocation's hits are flushed and sent right after its response
    /// when this long has passed since the last such flush (0: after every invocation); the
    /// invocations in between are flushed at the next INVOKE, in the background.
    /// </summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Subscribe to the Telemetry API for <c>platform.runtimeDone</c> (SL_TELEMETRY_API=false: never).</summary>
    public bool UseTelemetryApi { get; init; } = true;

    /// <summary>Kept free before a drain's deadline: no request is in flight past deadline minus this.</summary>
    public TimeSpan DrainMargin { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// How long a batch collected before the lab's first execution may wait for it before it is
    /// dropped (0: drop at once). After an execution has been seen, a batch collected while none is
    /// active is dropped at once (Delivery/README.md, "Attribution").
    /// </summary>
    public TimeSpan NoExecutionHold { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The active execution is queried at most this often (the remote configuration's <c>executionQueryIntervalSecs</c> when it set one).</summary>
    public TimeSpan ExecutionRefreshInterval
    {
        get => Metadata.ExecutionQueryInterval ?? _executionRefreshInterval;
        init => _executionRefreshInterval = value;
    }

    private readonly TimeSpan _executionRefreshInterval = TimeSpan.FromSeconds(10);

    /// <summary>What the lifecycle calls learn in the background (build session names, remote configuration) and every request then carries.</summary>
    public AgentMetadata Metadata { get; init; } = new();

    /// <summary>First retry delay after a failed attempt; doubles per consecutive failure up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryMinDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>At most this many spooled batches go into one request.</summary>
    public int MaxBatchesPerRequest { get; init; } = 50;

    /// <summary>Batches are added to a request while their spooled JSON stays under this (one batch always goes).</summary>
    public long MaxRequestBytes { get; init; } = 1024 * 1024;

    /// <summary>Route templates, relative to <see cref="BaseAddress"/>; see <see cref="SealightsRoutes"/>.</summary>
    public string FootprintsRoute { get; init; } = SealightsRoutes.DefaultFootprintsRoute;

    public string CollectorFootprintsRoute { get; init; } = SealightsRoutes.DefaultCollectorFootprintsRoute;

    public string ActiveExecutionRoute { get; init; } = SealightsRoutes.DefaultActiveExecutionRoute;

    /// <summary>The configuration file that was read, if any.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Every setting this reads, environment first, then <see cref="ConfigFileName"/>.</summary>
    public static readonly IReadOnlyList<string> Settings =
    [
        "SL_BUILD_SESSION_ID", "SL_BUILD_SESSION_ID_FILE", "SL_LAB_ID", "SL_TEST_STAGE", "SL_COLLECTOR_URL", "SL_PROXY",
        "SL_EXECUTION_ID", "SL_NO_EXECUTION_HOLD_SECONDS", "SL_SPOOL_DIR", "SL_SPOOL_MAX_BYTES", "SL_SPOOL_MAX_FILES",
        "SL_REQUEST_TIMEOUT_MS", "SL_FLUSH_BUDGET_MS", "SL_FLUSH_INTERVAL_SECONDS", "SL_TELEMETRY_API", "SL_RETRY_MIN_MS", "SL_RETRY_MAX_MS",
        "SL_FOOTPRINTS_ROUTE", "SL_COLLECTOR_FOOTPRINTS_ROUTE", "SL_EXECUTION_ROUTE",
    ];

    /// <summary>
    /// Reads and validates the delivery settings. Each problem is one line on <paramref name="log"/>
    /// (the token is never printed). Returns null when footprints cannot be delivered (no build
    /// session id, nowhere to send, an unusable URL or route); out-of-range limits fall back to
    /// their defaults with a line saying so.
    /// </summary>
    /// <param name="env">The environment (usually <see cref="Environment.GetEnvironmentVariable(string)"/>).</param>
    /// <param name="taskRoot">The function's folder (<c>/var/task</c>): <c>sealights.json</c> and relative <c>*_FILE</c> paths.</param>
    /// <param name="token">The parsed agent token: its <c>x-sl-server</c> is the default destination.</param>
    /// <param name="log">One line per problem.</param>
    public static DeliveryOptions? TryCreate(Func<string, string?> env, string taskRoot, SealightsToken token, Action<string> log)
    {
        var fatal = 0;
        void Fatal(string message)
        {
            fatal++;
            log($"{Prefix} is off: {message}");
        }
        void Warn(string message) => log($"{Prefix}: {message}");

        var configPath = NonEmpty(env("SL_CONFIG_FILE")) is { } explicitPath
            ? Resolve(taskRoot, explicitPath)
            : Path.Combine(taskRoot, ConfigFileName);
        var file = ReadConfigFile(configPath, Warn);
        string? Get(string name) => NonEmpty(env(name)) ?? (file is not null && file.TryGetValue(name, out var value) ? NonEmpty(value) : null);
        string Where(string name) => file is null ? name : $"{name} (environment or {configPath})";

        // Build session id: the value, else the file it is in; the environment's pair before the file's pair.
        string? bsid = null;
        foreach (var source in new[] { (Func<string, string?>)(n => NonEmpty(env(n))), n => file is not null && file.TryGetValue(n, out var v) ? NonEmpty(v) : null })
        {
            if (source("SL_BUILD_SESSION_ID") is { } direct)
            {
                bsid = direct;
                break;
            }
            if (source("SL_BUILD_SESSION_ID_FILE") is { } bsidFile)
            {
                var path = Resolve(taskRoot, bsidFile);
                try
                {
                    bsid = NonEmpty(File.ReadAllText(path)) ?? "";
                    if (bsid.Length == 0)
                    {
                        Fatal($"SL_BUILD_SESSION_ID_FILE {path} is empty");
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                {
                    Fatal($"SL_BUILD_SESSION_ID_FILE {path} cannot be read ({e.GetType().Name})");
                    bsid = "";
                }
                break;
            }
        }
        if (bsid is null)
        {
            Fatal($"no build session id: set SL_BUILD_SESSION_ID or SL_BUILD_SESSION_ID_FILE on the function, or in {configPath}");
        }
        else if (bsid.Length > 0 && IdProblem(bsid) is { } bsidProblem)
        {
            Fatal($"the build session id {bsidProblem}");
            bsid = null;
        }

        var labId = Get("SL_LAB_ID");
        if (labId is not null && IdProblem(labId) is { } labProblem)
        {
            Fatal($"SL_LAB_ID {labProblem}");
        }

        var testStage = Get("SL_TEST_STAGE");
        if (testStage is not null && (testStage.Length > 256 || testStage.Any(char.IsControl)))
        {
            Fatal("SL_TEST_STAGE must be at most 256 characters without control characters");
        }

        var executionId = Get("SL_EXECUTION_ID");
        if (executionId is not null && IdProblem(executionId) is { } executionProblem)
        {
            Fatal($"SL_EXECUTION_ID {executionProblem}");
        }

        Uri? baseAddress = token.Server;
        var usesCollector = false;
        if (Get("SL_COLLECTOR_URL") is { } collector)
        {
            if (Uri.TryCreate(collector, UriKind.Absolute, out var collectorUri)
                && (collectorUri.Scheme == Uri.UriSchemeHttp || collectorUri.Scheme == Uri.UriSchemeHttps)
                && string.IsNullOrEmpty(collectorUri.UserInfo) && collectorUri.Host.Length > 0)
            {
                baseAddress = collectorUri;
                usesCollector = true;
            }
            else
            {
                Fatal("SL_COLLECTOR_URL must be an absolute http:// or https:// URL without credentials");
                baseAddress = null;
            }
        }
        else if (baseAddress is null)
        {
            Fatal("the token has no usable x-sl-server claim and SL_COLLECTOR_URL is not set: nowhere to send footprints");
        }

        Uri? proxy = null;
        (string, string)? proxyCredentials = null;
        if (Get("SL_PROXY") is { } proxyText)
        {
            if (Uri.TryCreate(proxyText, UriKind.Absolute, out var proxyUri)
                && proxyUri.Scheme is "http" or "https" or "socks4" or "socks4a" or "socks5"
                && proxyUri.Host.Length > 0)
            {
                if (!string.IsNullOrEmpty(proxyUri.UserInfo))
                {
                    var parts = proxyUri.UserInfo.Split(':', 2);
                    proxyCredentials = (Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "");
                }
                proxy = new UriBuilder(proxyUri.Scheme, proxyUri.Host, proxyUri.Port).Uri;
            }
            else
            {
                // Never echo the value: it may carry a password.
                Fatal("SL_PROXY must be an absolute URL such as http://proxy.example:3128 (schemes http, https, socks4, socks4a, socks5)");
            }
        }

        var routes = new Dictionary<string, string>();
        foreach (var (name, fallback) in new[]
                 {
                     ("SL_FOOTPRINTS_ROUTE", SealightsRoutes.DefaultFootprintsRoute),
                     ("SL_COLLECTOR_FOOTPRINTS_ROUTE", SealightsRoutes.DefaultCollectorFootprintsRoute),
                     ("SL_EXECUTION_ROUTE", SealightsRoutes.DefaultActiveExecutionRoute),
                 })
        {
            var template = Get(name) ?? fallback;
            if (SealightsRoutes.TemplateProblem(template) is { } problem)
            {
                Fatal($"{name} {problem}");
            }
            routes[name] = template;
        }

        var defaults = new DeliveryOptions { BuildSessionId = "", LabId = "", BaseAddress = new Uri("http://unused") };
        long Number(string name, long fallback, long min, long max)
        {
            var text = Get(name);
            if (text is null)
            {
                return fallback;
            }
            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }
            Warn($"{Where(name)}={text} is not a whole number from {min} to {max}; using {fallback}");
            return fallback;
        }
        var spoolDirectory = Get("SL_SPOOL_DIR") ?? DefaultSpoolDirectory;
        if (!Path.IsPathFullyQualified(spoolDirectory))
        {
            Warn($"{Where("SL_SPOOL_DIR")}={spoolDirectory} is not an absolute path; using {DefaultSpoolDirectory}");
            spoolDirectory = DefaultSpoolDirectory;
        }
        var retryMin = Number("SL_RETRY_MIN_MS", (long)defaults.RetryMinDelay.TotalMilliseconds, 1, 3_600_000);
        var retryMax = Number("SL_RETRY_MAX_MS", (long)defaults.RetryMaxDelay.TotalMilliseconds, 1, 3_600_000);
        if (retryMax < retryMin)
        {
            Warn($"SL_RETRY_MAX_MS ({retryMax}) is below SL_RETRY_MIN_MS ({retryMin}); using {retryMin} for both");
            retryMax = retryMin;
        }
        var useTelemetryApi = defaults.UseTelemetryApi;
        if (Get("SL_TELEMETRY_API") is { } telemetryText && !BooleanSetting.TryParse(telemetryText, out useTelemetryApi))
        {
            Warn($"{Where("SL_TELEMETRY_API")}={telemetryText} is not true or false; using true");
            useTelemetryApi = true;
        }
        var options = new DeliveryOptions
        {
            BuildSessionId = bsid ?? "",
            LabId = labId ?? bsid ?? "",
            TestStage = testStage,
            BaseAddress = baseAddress ?? defaults.BaseAddress,
            UsesCollector = usesCollector,
            Proxy = proxy,
            ProxyCredentials = proxyCredentials,
            FixedExecutionId = executionId,
            SpoolDirectory = spoolDirectory,
            SpoolMaxBytes = Number("SL_SPOOL_MAX_BYTES", defaults.SpoolMaxBytes, 4096, 1L << 40),
            SpoolMaxFiles = (int)Number("SL_SPOOL_MAX_FILES", defaults.SpoolMaxFiles, 1, 1_000_000),
            RequestTimeout = TimeSpan.FromMilliseconds(Number("SL_REQUEST_TIMEOUT_MS", (long)defaults.RequestTimeout.TotalMilliseconds, 10, 600_000)),
            FlushBudget = TimeSpan.FromMilliseconds(Number("SL_FLUSH_BUDGET_MS", (long)defaults.FlushBudget.TotalMilliseconds, 0, 600_000)),
            FlushInterval = TimeSpan.FromSeconds(Number("SL_FLUSH_INTERVAL_SECONDS", (long)defaults.FlushInterval.TotalSeconds, 0, 86_400)),
            UseTelemetryApi = useTelemetryApi,
            NoExecutionHold = TimeSpan.FromSeconds(Number("SL_NO_EXECUTION_HOLD_SECONDS", (long)defaults.NoExecutionHold.TotalSeconds, 0, 7 * 24 * 3600)),
            RetryMinDelay = TimeSpan.FromMilliseconds(retryMin),
            RetryMaxDelay = TimeSpan.FromMilliseconds(retryMax),
            FootprintsRoute = routes["SL_FOOTPRINTS_ROUTE"],
            CollectorFootprintsRoute = routes["SL_COLLECTOR_FOOTPRINTS_ROUTE"],
            ActiveExecutionRoute = routes["SL_EXECUTION_ROUTE"],
            ConfigFile = file is null ? null : configPath,
        };
        return fatal == 0 ? options : null;
    }

    /// <summary>What a log line may say about the destination (no credentials anywhere in it).</summary>
    public string Describe() =>
        $"{(UsesCollector ? "collector" : "server")} {BaseAddress}, bsid {BuildSessionId}, lab {LabId}, "
        + $"test stage {TestStage ?? "(from the active execution, else " + DefaultTestStage + ")"}"
        + (FixedExecutionId is null ? "" : $", execution {FixedExecutionId}")
        + (Proxy is null ? "" : $", proxy {Proxy.Scheme}://{Proxy.Authority}");

    private static Dictionary<string, string>? ReadConfigFile(string path, Action<string> warn)
    {
        byte[] bytes;
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            warn($"{path} cannot be read ({e.GetType().Name}); using the environment only");
            return null;
        }
        // JsonDocument checks strings' UTF-8 only when they are read (GetString throws then).
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            warn($"{path} is not UTF-8 text; using the environment only");
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                warn($"{path} is not a JSON object of settings; using the environment only");
                return null;
            }
            var settings = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!Settings.Contains(property.Name))
                {
                    warn($"{path}: {property.Name} is not a delivery setting; ignored here");
                    continue;
                }
                switch (property.Value.ValueKind)
                {
                    case JsonValueKind.String:
                        settings[property.Name] = property.Value.GetString()!;
                        break;
                    case JsonValueKind.Number:
                    case JsonValueKind.True:
                    case JsonValueKind.False:
                        settings[property.Name] = property.Value.GetRawText();
                        break;
                    default:
                        warn($"{path}: {property.Name} must be a string or a number; ignored");
                        break;
                }
            }
            return settings;
        }
        catch (JsonException)
        {
            warn($"{path} is not valid JSON; using the environment only");
            return null;
        }
    }

    // bsid, lab and execution ids go into URL paths and headers.
    private static string? IdProblem(string value) =>
        value.Length > 256 ? "is longer than 256 characters"
        : value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) ? "must not contain spaces or control characters"
        : null;

    private static string Resolve(string taskRoot, string path) => Path.IsPathRooted(path) ? path : Path.Combine(taskRoot, path);

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
