using System.CommandLine;
using Sealights.Images.Cli.Sealights;

namespace Sealights.Images.Cli.Commands;

/// <summary>
/// <c>sl-images execution start|end</c>: opens and ends a test execution in a lab, as
/// <c>slnodejs start --teststage</c> and <c>slnodejs end</c> do, so a test run against a deployed
/// function is what its footprints are attributed to. The lab defaults to the build session id,
/// which is also the agent's default lab (SL_LAB_ID).
/// </summary>
public static class ExecutionCommand
{
    public static Command Create()
    {
        var start = Verb("start", "open a test execution: the function's footprints are attributed to it until it ends", withStage: true);
        var end = Verb("end", "end the lab's open test execution", withStage: false);
        return new Command("execution", "open and end test executions (what footprints are attributed to), as slnodejs start/end do") { start, end };
    }

    private static Command Verb(string name, string description, bool withStage)
    {
        var tokenFile = TokenInput.CreateOption();
        var bsid = new Option<string>("--bsid") { Description = "the build session id (sl-images config, or the image's sealights.json)", Required = true };
        var lab = new Option<string?>("--lab-id") { Description = "the lab (default: the build session id, as the agent's SL_LAB_ID default)" };
        var stage = new Option<string>("--test-stage") { Description = "the test stage, e.g. \"Functional Tests\"", Required = true };
        var command = new Command(name, description) { tokenFile, bsid, lab };
        if (withStage)
        {
            command.Add(stage);
        }

        command.SetAction((parse, cancellationToken) => RunAsync(
            new ExecutionRequest(name, parse.GetValue(tokenFile), parse.GetValue(bsid)!, parse.GetValue(lab), withStage ? parse.GetValue(stage) : null),
            Environment.GetEnvironmentVariable, Console.Error, cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(ExecutionRequest request, Func<string, string?> env, TextWriter stderr, CancellationToken cancellationToken)
    {
        var verb = $"execution {request.Verb}";
        if (SealightsClient.IdProblem(request.Bsid.Trim()) is { } bsidProblem)
        {
            stderr.WriteLine($"sl-images {verb}: --bsid {bsidProblem}");
            return ExitCodes.InvalidInput;
        }

        var labId = string.IsNullOrWhiteSpace(request.LabId) ? request.Bsid.Trim() : request.LabId.Trim();
        if (SealightsClient.IdProblem(labId) is { } labProblem)
        {
            stderr.WriteLine($"sl-images {verb}: --lab-id {labProblem}");
            return ExitCodes.InvalidInput;
        }

        if (request.TestStage is { } stage && (string.IsNullOrWhiteSpace(stage) || stage.Any(char.IsControl)))
        {
            stderr.WriteLine($"sl-images {verb}: --test-stage must be a non-empty name without control characters");
            return ExitCodes.InvalidInput;
        }

        if (TokenInput.Read(verb, request.TokenFile, env, stderr) is not { } token)
        {
            return ExitCodes.InvalidInput;
        }

        using var http = SealightsHttp.Create();
        // slnodejs' start and end run as its test listener.
        var client = new SealightsClient(http, token, "TestListener");
        try
        {
            var session = await client.GetBuildSessionAsync(request.Bsid.Trim(), cancellationToken);
            if (request.TestStage is { } testStage)
            {
                await client.StartTestExecutionAsync(session, labId, testStage.Trim(), cancellationToken);
                stderr.WriteLine($"sl-images {verb}: test stage \"{testStage.Trim()}\" open in lab {labId} ({session.AppName} / {session.BranchName} / {session.BuildName}); end it with sl-images execution end");
            }
            else
            {
                await client.EndTestExecutionAsync(session, labId, cancellationToken);
                stderr.WriteLine($"sl-images {verb}: the execution of lab {labId} ended");
            }
        }
        catch (SealightsException e)
        {
            stderr.WriteLine($"sl-images {verb}: {e.Message}");
            return ExitCodes.BackendError;
        }

        return ExitCodes.Success;
    }
}

/// <summary>What <c>sl-images execution start|end</c> was asked for (<see cref="TestStage"/> only for start).</summary>
public sealed record ExecutionRequest(string Verb, FileInfo? TokenFile, string Bsid, string? LabId, string? TestStage);
