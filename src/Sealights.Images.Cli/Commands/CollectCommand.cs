using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using Sealights.Coverage.BuildMaps;
using Sealights.Images.Cli.Collector;

namespace Sealights.Images.Cli.Commands;

/// <summary>
/// <c>sl-images collect --listen 127.0.0.1:PORT --out DIR</c>: a local footprints collector. An
/// agent sends to it with <c>SL_COLLECTOR_URL=http://127.0.0.1:PORT</c> (collector mode) or takes it
/// for its server (a token whose <c>x-sl-server</c> points here); every accepted request is on
/// disk before it is answered. Runs until Ctrl+C / SIGTERM.
/// </summary>
public static class CollectCommand
{
    public const string DefaultExecution = "local";
    public const string DefaultTestStage = "Functional Tests";

    public static Command Create()
    {
        var listen = new Option<string>("--listen") { Description = "the address to listen on, IP:PORT (e.g. 127.0.0.1:8770)", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "the folder the footprints go to (footprints.jsonl, appended)", Required = true };
        var buildMaps = new Option<FileInfo[]>("--build-map")
        {
            Description = "a build map (sl-images scan) whose method ids to expect; ids outside it are warned about (repeatable)",
            AllowMultipleArgumentsPerToken = false,
        };
        var execution = new Option<string>("--execution") { Description = "the execution footprints are filed under until a test run starts one", DefaultValueFactory = _ => DefaultExecution };
        var testStage = new Option<string>("--test-stage") { Description = "the test stage answered to agents", DefaultValueFactory = _ => DefaultTestStage };
        var command = new Command("collect", "a local footprints collector: stores what agents send, for sl-images report")
        {
            listen, output, buildMaps, execution, testStage,
        };
        command.WithExample("""
            Example:
              sl-images collect --listen 127.0.0.1:8770 --out coverage/footprints --build-map buildmap.json
              # the function's agent: SL_COLLECTOR_URL=http://127.0.0.1:8770 (and SL_TOKEN, SL_BUILD_SESSION_ID)
              # then: sl-images report --build-map buildmap.json --footprints coverage/footprints
            """);
        command.SetAction((parse, cancellationToken) => OneLineOnFailure.RunAsync("collect", () => RunAsync(
            parse.GetValue(listen)!, parse.GetValue(output)!, parse.GetValue(buildMaps) ?? [], parse.GetValue(execution)!, parse.GetValue(testStage)!,
            Console.Error, cancellationToken)));
        return command;
    }

    public static async Task<int> RunAsync(string listen, DirectoryInfo output, FileInfo[] buildMapFiles, string execution, string testStage, TextWriter log, CancellationToken cancellationToken)
    {
        if (ParseListen(listen) is not { } endpoint)
        {
            log.WriteLine($"sl-images collect: --listen {listen}: expected IP:PORT with a port from 1 to 65535 (e.g. 127.0.0.1:8770)");
            return ExitCodes.InvalidInput;
        }
        var maps = new List<BuildMap>();
        foreach (var file in buildMapFiles)
        {
            if (BuildMapFile.Read("collect", file, log) is not { } map)
            {
                return ExitCodes.InvalidInput;
            }
            maps.Add(map);
        }
        if (string.IsNullOrWhiteSpace(execution) || string.IsNullOrWhiteSpace(testStage))
        {
            log.WriteLine("sl-images collect: --execution and --test-stage must not be empty");
            return ExitCodes.InvalidInput;
        }

        FootprintsStore store;
        try
        {
            store = FootprintsStore.Open(output.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.WriteLine($"sl-images collect: --out {output.FullName}: cannot write there ({e.Message})");
            return ExitCodes.InvalidInput;
        }
        await using (store)
        {
            var host = CollectorServer.Host(endpoint.Address);
            var server = new CollectorServer(endpoint, store, new KnownMethods(maps, log), new CollectorExecutions(execution.Trim(), testStage.Trim()), log);
            try
            {
                server.Start();
            }
            catch (HttpListenerException e)
            {
                log.WriteLine($"sl-images collect: cannot listen on {listen} ({e.Message})");
                return ExitCodes.InvalidInput;
            }
            await using (server)
            {
                var known = maps.Count == 0 ? "" : $", expecting the {maps.Sum(m => m.Assemblies.Sum(a => a.Methods.Count))} method ids of {maps.Count} build map(s)";
                if (!IPAddress.IsLoopback(endpoint.Address))
                {
                    log.WriteLine($"sl-images collect: warning: {endpoint.Address} is not a loopback address: whoever reaches it can send footprints (plain HTTP, no authentication)");
                }
                log.WriteLine($"sl-images collect: listening on http://{host}:{endpoint.Port} (footprints: POST /v6/agents/{{bsid}}/footprints, health: GET /health), storing to {store.Path}{known}; Ctrl+C stops");
                await WaitForStopAsync(cancellationToken);
            }
            log.WriteLine($"sl-images collect: stopped; {store.Stored} request(s) stored in {store.Path}");
        }
        return ExitCodes.Success;
    }

    // SIGTERM too (docker stop, kill): System.CommandLine cancels on Ctrl+C only.
    private static async Task WaitForStopAsync(CancellationToken cancellationToken)
    {
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stopped.TrySetResult();
        });
        using var registration = cancellationToken.Register(() => stopped.TrySetResult());
        await stopped.Task;
    }

    internal static IPEndPoint? ParseListen(string value) =>
        IPEndPoint.TryParse(value.Trim(), out var endpoint) && endpoint.Port is > 0 and <= 65535 && value.Contains(':') ? endpoint : null;
}
