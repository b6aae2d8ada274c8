using System.CommandLine;
using Sealights.Images.Cli.Commands;

var root = new RootCommand("sl-images: coverage-ready AWS Lambda .NET images - scan builds, check base images, collect coverage locally")
{
    ConfigCommand.Create(),
    ScanCommand.Create(),
    InspectCommand.Create(),
    CheckCommand.Create(),
    InstrumentCommand.Create(),
    CollectCommand.Create(),
    ReportCommand.Create(),
    ExecutionCommand.Create(),
};
var parsed = root.Parse(args);
var exitCode = await parsed.InvokeAsync();
// A missing or malformed option is bad input (2), not a finding (System.CommandLine's 1).
return parsed.Errors.Count > 0 ? ExitCodes.InvalidInput : exitCode;
