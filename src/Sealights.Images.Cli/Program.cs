using System.CommandLine;
using Sealights.Images.Cli.Commands;

var root = new RootCommand("sl-images: coverage-ready AWS Lambda .NET images - scan builds, check base images, collect coverage locally")
{
    ConfigCommand.Create(),
    ScanCommand.Create(),
    InspectCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
