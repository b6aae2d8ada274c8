using System.CommandLine;
using System.Text.Json.Nodes;
using Sealights.Images.Cli.Sealights;

namespace Sealights.Images.Cli.Commands;

/// <summary>
/// <c>sl-images config</c>: creates a Sealights build session (app, branch, build) from the agent
/// token, as <c>slnodejs config</c> does; prints its id (bsid) and writes it to a file.
/// </summary>
public static class ConfigCommand
{
    public static Command Create()
    {
        var tokenFile = TokenInput.CreateOption();
        var app = new Option<string>("--app") { Description = "application name", Required = true };
        var branch = new Option<string>("--branch") { Description = "branch name", Required = true };
        var build = new Option<string>("--build") { Description = "build name (unique per app and branch, e.g. the CI build number)", Required = true };
        var labels = new Option<string[]>("--label") { Description = "extra key=value for the build session (repeatable)", AllowMultipleArgumentsPerToken = false };
        var bsidFile = new Option<FileInfo?>("--bsid-file") { Description = "write the build session id to this file" };
        var json = new Option<bool>("--json") { Description = "print a JSON object instead of the bare id" };
        var command = new Command("config", "create a Sealights build session and print its id")
        {
            tokenFile, app, branch, build, labels, bsidFile, json,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            new ConfigRequest(parse.GetValue(tokenFile), parse.GetValue(app)!, parse.GetValue(branch)!, parse.GetValue(build)!, parse.GetValue(labels) ?? [], parse.GetValue(bsidFile), parse.GetValue(json)),
            Environment.GetEnvironmentVariable, Console.Out, Console.Error, cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(ConfigRequest request, Func<string, string?> env, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        foreach (var (name, value) in new[] { ("--app", request.App), ("--branch", request.Branch), ("--build", request.Build) })
        {
            if (string.IsNullOrWhiteSpace(value) || value.Any(char.IsControl))
            {
                stderr.WriteLine($"sl-images config: {name} must be a non-empty name without control characters");
                return ExitCodes.InvalidInput;
            }
        }
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var label in request.Labels)
        {
            var equals = label.IndexOf('=');
            if (equals <= 0)
            {
                stderr.WriteLine($"sl-images config: --label '{label}' is not key=value");
                return ExitCodes.InvalidInput;
            }
            labels[label[..equals].Trim()] = label[(equals + 1)..];
        }
        if (TokenInput.Read("config", request.TokenFile, env, stderr) is not { } token)
        {
            return ExitCodes.InvalidInput;
        }

        string bsid;
        using (var http = SealightsHttp.Create())
        {
            try
            {
                bsid = await new SealightsClient(http, token, "sl-images").CreateBuildSessionAsync(request.App.Trim(), request.Branch.Trim(), request.Build.Trim(), labels, cancellationToken);
            }
            catch (SealightsException e)
            {
                stderr.WriteLine($"sl-images config: no build session created: {e.Message}");
                return ExitCodes.BackendError;
            }
        }

        if (request.BsidFile is { } file)
        {
            try
            {
                file.Directory?.Create();
                File.WriteAllText(file.FullName, bsid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"sl-images config: build session {bsid} was created but cannot be written to {file.FullName} ({e.Message})");
                return ExitCodes.InvalidInput;
            }
        }
        if (request.Json)
        {
            stdout.WriteLine(new JsonObject
            {
                ["buildSessionId"] = bsid,
                ["appName"] = request.App.Trim(),
                ["branchName"] = request.Branch.Trim(),
                ["buildName"] = request.Build.Trim(),
                ["server"] = token.Server.AbsoluteUri,
                ["bsidFile"] = request.BsidFile?.FullName,
            }.ToJsonString());
        }
        else
        {
            stdout.WriteLine(bsid);
        }
        stderr.WriteLine($"sl-images config: build session {bsid} created for {request.App.Trim()} / {request.Branch.Trim()} / {request.Build.Trim()}{(request.BsidFile is null ? "" : $" -> {request.BsidFile.FullName}")}");
        return ExitCodes.Success;
    }
}

/// <summary>What <c>sl-images config</c> was asked for.</summary>
public sealed record ConfigRequest(FileInfo? TokenFile, string App, string Branch, string Build, IReadOnlyList<string> Labels, FileInfo? BsidFile, bool Json);
