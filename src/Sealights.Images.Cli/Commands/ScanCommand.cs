using Sealights.Coverage.Tokens;
using System.CommandLine;
using System.Reflection;
using Sealights.Coverage;
using Sealights.Coverage.BuildMaps;
using Sealights.Images.Cli.Sealights;

namespace Sealights.Images.Cli.Commands;

/// <summary>
/// <c>sl-images scan DIR</c>: the build map of an application folder (a publish output or an
/// image's /var/task) - every source method of its application assemblies, with the ids the
/// agent reports. With <c>--upload</c>, also registers it with Sealights for a build session.
/// </summary>
public static class ScanCommand
{
    public static Command Create()
    {
        var directory = new Argument<DirectoryInfo>("directory") { Description = "the application folder (publish output, /var/task)" };
        var output = new Option<FileInfo?>("--output", "-o") { Description = "write the build map here (default: standard output, unless --upload)" };
        var upload = new Option<bool>("--upload") { Description = "upload the build map to Sealights for the build session (--bsid or --bsid-file)" };
        var bsid = new Option<string?>("--bsid") { Description = "the build session id (from sl-images config)" };
        var bsidFile = new Option<FileInfo?>("--bsid-file") { Description = "a file holding the build session id" };
        var tokenFile = TokenInput.CreateOption();
        var settingsFile = new Option<FileInfo?>("--settings-file")
        {
            Description = "after the upload, set SL_BUILD_SESSION_ID in this JSON settings file (e.g. PUBLISHDIR/sealights.json; other keys kept)",
        };
        var command = new Command("scan", "write the build map of an application folder, and upload it to Sealights with --upload")
        {
            directory, output, upload, bsid, bsidFile, tokenFile, settingsFile,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            new ScanRequest(parse.GetValue(directory)!, parse.GetValue(output), parse.GetValue(upload), parse.GetValue(bsid), parse.GetValue(bsidFile), parse.GetValue(tokenFile), parse.GetValue(settingsFile)),
            Environment.GetEnvironmentVariable, Console.Out, Console.Error, cancellationToken));
        return command;
    }

    /// <summary>The local scan only (what the MSBuild package used before uploads).</summary>
    public static int Run(DirectoryInfo directory, FileInfo? output, TextWriter stdout, TextWriter stderr) =>
        RunAsync(new ScanRequest(directory, output, false, null, null, null, null), Environment.GetEnvironmentVariable, stdout, stderr, CancellationToken.None).GetAwaiter().GetResult();

    public static async Task<int> RunAsync(ScanRequest request, Func<string, string?> env, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var directory = request.Directory;
        if (!directory.Exists)
        {
            stderr.WriteLine($"sl-images scan: {directory.FullName} does not exist or is not a folder");
            return ExitCodes.InvalidInput;
        }

        // Upload inputs are checked before the scan: a refused token sends nothing and scans nothing.
        SealightsToken? token = null;
        string? bsid = null;
        if (request.Upload)
        {
            if (ReadBsid(request, stderr) is not { } id)
            {
                return ExitCodes.InvalidInput;
            }
            bsid = id;
            if (TokenInput.Read("scan", request.TokenFile, env, stderr) is not { } checkedToken)
            {
                return ExitCodes.InvalidInput;
            }
            token = checkedToken;
        }
        else if (request.Bsid is not null || request.BsidFile is not null || request.SettingsFile is not null)
        {
            stderr.WriteLine("sl-images scan: --bsid, --bsid-file and --settings-file go with --upload");
            return ExitCodes.InvalidInput;
        }

        var scan = ApplicationAssemblyFinder.Find(directory.FullName);
        var catalogs = new List<SourceMethodCatalog>();
        foreach (var assembly in scan.Assemblies)
        {
            try
            {
                catalogs.Add(SourceMethodCatalog.Read(assembly.Path));
            }
            catch (AssemblyReadException e)
            {
                stderr.WriteLine($"sl-images scan: skipped {assembly.Path}: {e.Message}");
            }
        }
        if (catalogs.Count == 0)
        {
            stderr.WriteLine(
                $"sl-images scan: no application assembly with a portable PDB in {directory.FullName} "
                + "(publish with DebugType=portable or embedded, and keep the .pdb files)");
            return ExitCodes.Finding;
        }

        var map = BuildMap.Create($"sl-images {Version()}", catalogs);
        if (request.Output is { } output)
        {
            output.Directory?.Create();
            using var stream = output.Create();
            BuildMapJson.Write(stream, map);
        }
        else if (!request.Upload)
        {
            stdout.WriteLine(BuildMapJson.Serialize(map));
        }
        var methods = map.Assemblies.Sum(a => a.Methods.Count);
        var summary = $"{map.Assemblies.Count} {(map.Assemblies.Count == 1 ? "assembly" : "assemblies")}, {methods} methods{(request.Output is null ? "" : $" -> {request.Output.FullName}")}";
        if (token is null || bsid is null)
        {
            stderr.WriteLine($"sl-images scan: {summary}");
            return ExitCodes.Success;
        }
        // With an upload, one line either way: the summary with the success, or the failure alone.
        var uploaded = await UploadAsync(token, bsid, map, summary, stderr, cancellationToken);
        if (uploaded != ExitCodes.Success || request.SettingsFile is null)
        {
            return uploaded;
        }
        try
        {
            TaskSettingsFile.SetBuildSessionId(request.SettingsFile.FullName, bsid);
            return ExitCodes.Success;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            stderr.WriteLine($"sl-images scan: the build map was uploaded, but {request.SettingsFile.FullName} cannot be updated ({e.Message})");
            return ExitCodes.InvalidInput;
        }
    }

    // As slnodejs scan: validate the bsid, refuse a second build map, upload, check it was submitted.
    private static async Task<int> UploadAsync(SealightsToken token, string bsid, BuildMap map, string summary, TextWriter stderr, CancellationToken cancellationToken)
    {
        using var http = SealightsHttp.Create();
        var client = new SealightsClient(http, token, "BuildScanner");
        try
        {
            var session = await client.GetBuildSessionAsync(bsid, cancellationToken);
            if (await client.IsBuildMapSubmittedAsync(session, cancellationToken))
            {
                stderr.WriteLine($"sl-images scan: build session {bsid} already has a build map; Sealights takes one per build session: create a new one (sl-images config) for a new build");
                return ExitCodes.Finding;
            }
            await client.UploadBuildMapAsync(session, map, cancellationToken);
            if (!await client.IsBuildMapSubmittedAsync(session, cancellationToken))
            {
                stderr.WriteLine($"sl-images scan: the backend accepted the build map but does not report it submitted for build session {bsid}; check the build in Sealights before running tests");
                return ExitCodes.BackendError;
            }
            stderr.WriteLine($"sl-images scan: {summary}; build map uploaded for build session {bsid} ({session.AppName} / {session.BranchName} / {session.BuildName}) to {token.Server}");
            return ExitCodes.Success;
        }
        catch (SealightsException e)
        {
            stderr.WriteLine($"sl-images scan: build map not uploaded: {e.Message}");
            return e.Refused ? ExitCodes.InvalidInput : ExitCodes.BackendError;
        }
    }

    private static string? ReadBsid(ScanRequest request, TextWriter stderr)
    {
        if ((request.Bsid is null) == (request.BsidFile is null))
        {
            stderr.WriteLine("sl-images scan: --upload needs the build session: --bsid ID or --bsid-file FILE (one of them; see sl-images config)");
            return null;
        }
        string bsid;
        if (request.BsidFile is { } file)
        {
            try
            {
                bsid = File.ReadAllText(file.FullName).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"sl-images scan: cannot read the build session id file {file.FullName} ({e.Message})");
                return null;
            }
        }
        else
        {
            bsid = request.Bsid!.Trim();
        }
        if (SealightsClient.IdProblem(bsid) is { } problem)
        {
            stderr.WriteLine($"sl-images scan: the build session id {problem}");
            return null;
        }
        return bsid;
    }

    private static string Version() =>
        typeof(ScanCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}

/// <summary>What <c>sl-images scan</c> was asked for.</summary>
public sealed record ScanRequest(DirectoryInfo Directory, FileInfo? Output, bool Upload, string? Bsid, FileInfo? BsidFile, FileInfo? TokenFile, FileInfo? SettingsFile);
