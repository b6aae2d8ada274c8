using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Sealights.Images.Cli.Commands;

/// <summary>
/// Adds an example to a verb's own <c>--help</c>, after the usual text, while the verb's
/// description stays one line in the list of verbs.
/// </summary>
internal static class HelpExample
{
    public static Command WithExample(this Command command, string example)
    {
        var help = new HelpOption();
        help.Action = new ExampleAction((HelpAction)help.Action!, example);
        command.Options.Add(help);
        return command;
    }

    private sealed class ExampleAction(HelpAction help, string example) : SynchronousCommandLineAction
    {
        // As the built-in help: `verb --help` without the verb's required options is not an error.
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            help.Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine(example.TrimEnd());
            output.WriteLine();
            return 0;
        }
    }
}
