using System.CommandLine;
using Sealights.Images.Cli.Collector;

namespace Sealights.Images.Cli.Commands;

/// <summary>
/// <c>sl-images local-token --collector IP:PORT</c>: prints an agent token for a local
/// <c>sl-images collect</c>, for the function's <c>SL_TOKEN</c> in a local run (no Sealights
/// account, no hand-made JWT). It is good for that collector only.
/// </summary>
public static class LocalTokenCommand
{
    public static Command Create()
    {
        var collector = new Option<string>("--collector") { Description = "the collector's --listen address, IP:PORT", Required = true };
        var command = new Command("local-token", "print an agent token for a local sl-images collect (the function's SL_TOKEN in a local run)") { collector };
        command.WithExample("""
            Example:
              export SL_TOKEN="$(sl-images local-token --collector 127.0.0.1:8770)"
              sl-images collect --listen 127.0.0.1:8770 --out coverage/footprints &
              # the function with SL_TOKEN, SL_COLLECTOR_URL=http://127.0.0.1:8770 and SL_BUILD_SESSION_ID
            """);
        command.SetAction(parse =>
        {
            var value = parse.GetValue(collector)!;
            if (CollectCommand.ParseListen(value) is not { } endpoint)
            {
                Console.Error.WriteLine($"sl-images local-token: --collector {value}: expected IP:PORT with a port from 1 to 65535 (e.g. 127.0.0.1:8770)");
                return ExitCodes.InvalidInput;
            }
            Console.Out.WriteLine(LocalAgentToken.For($"http://{CollectorServer.Host(endpoint.Address)}:{endpoint.Port}"));
            return ExitCodes.Success;
        });
        return command;
    }
}
