using System.Collections;
using System.Runtime.InteropServices;
using Sealights.Lambda.Emulator.Api;
using Sealights.Lambda.Emulator.Environment;
using Sealights.Lambda.Emulator.Hosting;
using Sealights.Lambda.Emulator.Processes;
using Sealights.Lambda.Emulator.Telemetry;

var containerEnvironment = System.Environment.GetEnvironmentVariables()
    .Cast<DictionaryEntry>()
    .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);

EmulatorOptions options;
try
{
    options = EmulatorOptions.Parse(args, containerEnvironment);
}
catch (OptionsException e)
{
    await Console.Error.WriteLineAsync($"aws-lambda-rie: {e.Message}\n{EmulatorOptions.Usage}");
    return 2;
}
if (options.ShowHelp)
{
    await Console.Out.WriteLineAsync(EmulatorOptions.Usage);
    return 0;
}

var log = new EmulatorLog(options.LogLevel);
var function = FunctionConfiguration.FromEnvironment(containerEnvironment, options.Handler);
foreach (var warning in function.Warnings)
{
    log.Warn(warning);
}
foreach (var ignored in options.IgnoredFlags)
{
    log.Warn($"ignoring unknown flag {ignored}");
}
if (options.BootstrapPath is null)
{
    log.Warn($"no bootstrap given and none of {string.Join(", ", EmulatorOptions.BootstrapCandidates)} exists: invokes will fail with Runtime.InvalidEntrypoint");
}

var supervisor = new ProcessSupervisor(log);
supervisor.Start();
using var telemetry = new TelemetryDispatcher(log);
var environment = new ExecutionEnvironment(options, function, supervisor, telemetry, log);

WebApplication runtimeApi;
WebApplication invokeApi;
try
{
    runtimeApi = ApiHost.Build(options.RuntimeApiAddress, sandboxFacing: true, app =>
    {
        RuntimeApiEndpoints.Map(app, environment);
        ExtensionsApiEndpoints.Map(app, environment);
        TelemetryApiEndpoints.Map(app, environment);
    });
    invokeApi = ApiHost.Build(options.InvokeAddress, sandboxFacing: false, app => InvokeEndpoint.Map(app, environment));
    await runtimeApi.StartAsync();
    await invokeApi.StartAsync();
}
catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException)
{
    log.Error($"cannot listen: {e.Message}");
    return 1;
}

var runtimeApiAuthority = options.RuntimeApiAddress.ClientAuthority(ApiHost.BoundPort(runtimeApi));
environment.SetRuntimeApiAuthority(runtimeApiAuthority);
var invokeAuthority = options.InvokeAddress.ClientAuthority(ApiHost.BoundPort(invokeApi));
log.Info($"Invoke endpoint: http://{invokeAuthority}/2015-03-31/functions/function/invocations; Runtime API: {runtimeApiAuthority}");
log.Info($"bootstrap {options.BootstrapPath ?? "(none)"} [{string.Join(' ', options.BootstrapArguments)}], handler '{function.Handler}', " +
    $"extensions {options.ExtensionsDirectory}, timeout {function.TimeoutSeconds} s, memory {function.MemorySizeMb} MB, freeze {(options.Freeze ? "on" : "off")}" +
    (options.SigtermRuntimeGroup ? ", SIGTERM at shutdown to the runtime's process group" : ""));

// docker stop sends SIGTERM; Ctrl+C sends SIGINT. Either way: an orderly Lambda shutdown, exit 0.
using var onSigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Shutdown);
using var onSigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Shutdown);

await environment.RunAsync();
using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
{
    await Task.WhenAll(invokeApi.StopAsync(stopping.Token), runtimeApi.StopAsync(stopping.Token));
}
return 0;

void Shutdown(PosixSignalContext context)
{
    context.Cancel = true;
    log.Info($"{context.Signal} received: shutting down");
    environment.RequestShutdown();
}
