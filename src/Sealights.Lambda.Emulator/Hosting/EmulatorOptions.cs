using System.Globalization;

namespace Sealights.Lambda.Emulator.Hosting;

/// <summary>
/// The command line (RIE's) plus the environment fallbacks this project adds:
/// <c>aws-lambda-rie [--runtime-interface-emulator-address HOST:PORT] [--runtime-api-address HOST:PORT]
/// [--log-level L] [--no-freeze] [--sigterm-runtime-group] [bootstrap [args...]]</c>.
/// Flags are read up to the first positional argument; everything after it belongs to the bootstrap.
/// </summary>
internal sealed class EmulatorOptions
{
    public const string InvokeAddressFlag = "--runtime-interface-emulator-address";
    public const string RuntimeApiAddressFlag = "--runtime-api-address";
    public const string LogLevelFlag = "--log-level";
    public const string NoFreezeFlag = "--no-freeze";
    public const string SigtermRuntimeGroupFlag = "--sigterm-runtime-group";

    /// <summary>Where RIE looks for a bootstrap when none is given, in order.</summary>
    public static readonly IReadOnlyList<string> BootstrapCandidates = ["/var/task/bootstrap", "/opt/bootstrap", "/var/runtime/bootstrap"];

    public required EndpointAddress InvokeAddress { get; init; }

    public required EndpointAddress RuntimeApiAddress { get; init; }

    public LogLevel LogLevel { get; init; } = LogLevel.Info;

    /// <summary>SIGSTOP the environment between invocations, as Lambda freezes it.</summary>
    public bool Freeze { get; init; } = true;

    /// <summary>
    /// At shutdown, SIGTERM the runtime's whole process group (every process the runtime started
    /// without a group of its own gets it at the same moment) instead of the runtime process
    /// alone: what AWS's RIE does (kill(-pgid, SIGTERM)).
    /// </summary>
    public bool SigtermRuntimeGroup { get; init; }

    /// <summary>The runtime's executable, or null when no candidate exists (init then fails).</summary>
    public string? BootstrapPath { get; init; }

    public IReadOnlyList<string> BootstrapArguments { get; init; } = [];

    /// <summary>The handler given on the command line (the last argument after the bootstrap).</summary>
    public string? Handler { get; init; }

    public string ExtensionsDirectory { get; init; } = "/opt/extensions";

    /// <summary>Lambda's init limit (10 s). SL_EMULATOR_INIT_TIMEOUT overrides it, for tests.</summary>
    public TimeSpan InitTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public IReadOnlyList<string> IgnoredFlags { get; init; } = [];

    public bool ShowHelp { get; init; }

    public const string Usage = """
        Usage: aws-lambda-rie [options] [bootstrap [args...]]
          --runtime-interface-emulator-address HOST:PORT  invoke endpoint (default 0.0.0.0:8080, env SL_EMULATOR_ADDRESS)
          --runtime-api-address HOST:PORT                 Runtime/Extensions/Telemetry API (default 127.0.0.1:9001, env SL_EMULATOR_RUNTIME_API_ADDRESS)
          --log-level debug|info|warn|error               emulator diagnostics on stderr (default info, env LOG_LEVEL)
          --no-freeze                                     do not SIGSTOP the environment between invocations (env SL_EMULATOR_FREEZE=false)
          --sigterm-runtime-group                         at shutdown SIGTERM the runtime's whole process group, as AWS's RIE does (env SL_EMULATOR_SIGTERM_GROUP=true)
        Without a bootstrap: /var/task/bootstrap, /opt/bootstrap, /var/runtime/bootstrap. With more than one
        argument after the bootstrap's path, the last one is the handler (_HANDLER).
        """;

    public static EmulatorOptions Parse(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment)
    {
        string? invoke = null, runtimeApi = null, logLevel = null;
        var noFreeze = false;
        var sigtermGroup = false;
        var help = false;
        var ignored = new List<string>();
        var index = 0;
        for (; index < args.Count; index++)
        {
            var arg = args[index];
            if (arg == "--")
            {
                index++;
                break;
            }
            if (!arg.StartsWith('-') || arg == "-")
            {
                break;
            }
            var equals = arg.IndexOf('=');
            var name = equals > 0 ? arg[..equals] : arg;
            string TakeValue()
            {
                if (equals > 0)
                {
                    return arg[(equals + 1)..];
                }
                if (index + 1 >= args.Count)
                {
                    throw new OptionsException($"{name} needs a value");
                }
                return args[++index];
            }
            switch (name)
            {
                case InvokeAddressFlag:
                    invoke = TakeValue();
                    break;
                case RuntimeApiAddressFlag:
                    runtimeApi = TakeValue();
                    break;
                case LogLevelFlag:
                    logLevel = TakeValue();
                    break;
                case NoFreezeFlag:
                    noFreeze = true;
                    break;
                case SigtermRuntimeGroupFlag:
                    sigtermGroup = true;
                    break;
                case "-h" or "--help":
                    help = true;
                    break;
                default:
                    // RIE ignores the flags it does not know; so do we.
                    ignored.Add(arg);
                    break;
            }
        }
        var positional = args.Skip(index).ToList();

        invoke ??= Get(environment, "SL_EMULATOR_ADDRESS") ?? "0.0.0.0:8080";
        runtimeApi ??= Get(environment, "SL_EMULATOR_RUNTIME_API_ADDRESS") ?? "127.0.0.1:9001";
        // A bad --log-level is an error; LOG_LEVEL is also a common variable of the function's
        // own, so a value we do not know there just leaves the default.
        var level = logLevel is not null
            ? EmulatorLog.ParseLevel(logLevel) ?? throw new OptionsException($"{LogLevelFlag}: unknown level '{logLevel}' (debug, info, warn, error)")
            : EmulatorLog.ParseLevel(Get(environment, "LOG_LEVEL")) ?? LogLevel.Info;

        var freezeSetting = Get(environment, "SL_EMULATOR_FREEZE");
        var freeze = !noFreeze && Switch(freezeSetting, fallback: true);
        sigtermGroup |= Switch(Get(environment, "SL_EMULATOR_SIGTERM_GROUP"), fallback: false);

        var initTimeout = TimeSpan.FromSeconds(10);
        if (Get(environment, "SL_EMULATOR_INIT_TIMEOUT") is { } initText)
        {
            if (!double.TryParse(initText, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds <= 0)
            {
                throw new OptionsException($"SL_EMULATOR_INIT_TIMEOUT: '{initText}' is not a positive number of seconds");
            }
            initTimeout = TimeSpan.FromSeconds(seconds);
        }

        string? bootstrap;
        IReadOnlyList<string> bootstrapArgs = [];
        string? handler = null;
        if (positional.Count > 0)
        {
            bootstrap = Path.GetFullPath(positional[0]);
            bootstrapArgs = positional.Skip(1).ToList();
            if (positional.Count > 1)
            {
                handler = positional[^1];
            }
        }
        else
        {
            bootstrap = BootstrapCandidates.FirstOrDefault(File.Exists);
        }

        return new EmulatorOptions
        {
            InvokeAddress = EndpointAddress.Parse(invoke, InvokeAddressFlag),
            RuntimeApiAddress = EndpointAddress.Parse(runtimeApi, RuntimeApiAddressFlag),
            LogLevel = level,
            Freeze = freeze,
            SigtermRuntimeGroup = sigtermGroup,
            BootstrapPath = bootstrap,
            BootstrapArguments = bootstrapArgs,
            Handler = handler,
            ExtensionsDirectory = Get(environment, "SL_EMULATOR_EXTENSIONS_DIR") ?? "/opt/extensions",
            InitTimeout = initTimeout,
            IgnoredFlags = ignored,
            ShowHelp = help,
        };
    }

    private static string? Get(IReadOnlyDictionary<string, string> environment, string name) =>
        environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;

    /// <summary>An on/off environment setting; unset or another word keeps <paramref name="fallback"/>.</summary>
    private static bool Switch(string? text, bool fallback) => text?.Trim().ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        _ => fallback,
    };
}
