using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Sealights.Images.Cli.Registry;

namespace Sealights.Images.Cli.Commands;

/// <summary>The inputs of <c>sl-images check</c>, as given on the command line.</summary>
public sealed record CheckRequest(
    IReadOnlyList<string> Images,
    FileInfo? FromFile,
    string? Platform,
    string? MaxAge,
    bool Json,
    IReadOnlyList<string> InsecureRegistries);

/// <summary>
/// <c>sl-images check IMAGE…</c>: is each image built on the newest base, at every level of its
/// chain (application → coverage-ready image → AWS base)? Exit 0 all fresh, 1 some stale (or
/// older than --max-age), 2 bad input or an image that cannot be checked, 3 a registry error.
/// </summary>
public static partial class CheckCommand
{
    private const string Example = """

        Follows each image's org.opencontainers.image.base.name/.base.digest labels down its chain
        (application -> coverage-ready image -> AWS base) and compares, for the same platform, the
        recorded base digest with the base tag's current digest. Credentials as Docker finds them
        (DOCKER_CONFIG or ~/.docker/config.json: auths, credsStore, credHelpers).

        Exit codes: 0 all fresh, 1 stale (or a base older than --max-age), 2 bad input or an image
        without base labels, 3 a registry could not be reached, refused access or lacks the image.

        Example:
          sl-images check 123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:42 --max-age 30d
          sl-images check --from-file images.txt --json > staleness.json
        """;

    public static Command Create()
    {
        var images = new Argument<string[]>("image") { Description = "image references, e.g. localhost:5000/orders:42", Arity = ArgumentArity.ZeroOrMore };
        var fromFile = new Option<FileInfo?>("--from-file") { Description = "read image references from a file, one per line (# comments; - for standard input)" };
        var platform = new Option<string?>("--platform") { Description = "os/architecture to check, e.g. linux/arm64 (default: each image's own platforms)" };
        var maxAge = new Option<string?>("--max-age") { Description = "also flag a base created longer ago than this, e.g. 30d, 12h, 2w" };
        var json = new Option<bool>("--json") { Description = "print the result as JSON (for CI)" };
        var insecure = new Option<string[]>("--insecure-registry") { Description = "registry host:port that may be spoken to over plain HTTP (loopback ones always may); repeatable" };
        var command = new Command("check", "check whether images are built on the newest base images" + Example)
        {
            images, fromFile, platform, maxAge, json, insecure,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            new CheckRequest(parse.GetValue(images) ?? [], parse.GetValue(fromFile), parse.GetValue(platform), parse.GetValue(maxAge), parse.GetValue(json), parse.GetValue(insecure) ?? []),
            Console.Out, Console.Error, progress: !Console.IsErrorRedirected, cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(CheckRequest request, TextWriter stdout, TextWriter stderr, bool progress, CancellationToken cancellationToken)
    {
        if (Validate(request, stderr) is not { } input)
        {
            return ExitCodes.InvalidInput;
        }
        using var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }) { Timeout = TimeSpan.FromSeconds(30) };
        var client = new RegistryClient(http, new RegistryAccess(DockerCredentials.FromEnvironment(), request.InsecureRegistries));
        var walker = new BaseChainWalker(client, DateTimeOffset.UtcNow, input.MaxAge);
        var results = new List<ChainResult>();
        for (var i = 0; i < input.Images.Count; i++)
        {
            if (progress)
            {
                stderr.WriteLine($"checking {input.Images[i]} ({i + 1}/{input.Images.Count})");
            }
            results.AddRange(await walker.CheckAsync(input.Images[i], request.Platform, cancellationToken));
        }

        foreach (var failed in results.Where(r => r.Error is not null))
        {
            stderr.WriteLine($"sl-images check: {failed.Image} ({failed.Platform}): {failed.Error}");
        }
        var exitCode = ExitCodeOf(results);
        if (request.Json)
        {
            CheckOutput.WriteJson(stdout, results, exitCode);
        }
        else
        {
            CheckOutput.WriteTable(stdout, results);
        }
        return exitCode;
    }

    /// <summary>The most severe outcome decides: a registry error (3), then an unchecked image (2), then stale (1).</summary>
    public static int ExitCodeOf(IEnumerable<ChainResult> results)
    {
        var outcomes = results.Select(r => r.Outcome).ToHashSet();
        return outcomes.Contains(CheckOutcome.RegistryError) ? ExitCodes.BackendError
            : outcomes.Contains(CheckOutcome.Unchecked) ? ExitCodes.InvalidInput
            : outcomes.Contains(CheckOutcome.Stale) ? ExitCodes.Finding
            : ExitCodes.Success;
    }

    private sealed record ValidInput(IReadOnlyList<ImageReference> Images, TimeSpan? MaxAge);

    /// <summary>Everything given is checked before any request: one line names what is wrong.</summary>
    private static ValidInput? Validate(CheckRequest request, TextWriter stderr)
    {
        var texts = new List<(string Text, string Where)>(request.Images.Select((t, i) => (t, $"argument {i + 1}")));
        if (request.FromFile is { } file)
        {
            string[] lines;
            try
            {
                lines = file.Name == "-" && !file.Exists ? ReadAllStandardInput() : File.ReadAllLines(file.FullName);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"sl-images check: --from-file {file.FullName}: {e.Message}");
                return null;
            }
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Split('#')[0].Trim();
                if (line.Length > 0)
                {
                    texts.Add((line, $"{file.Name} line {i + 1}"));
                }
            }
        }
        if (texts.Count == 0)
        {
            stderr.WriteLine("sl-images check: no image given (expected image references as arguments or --from-file FILE)");
            return null;
        }
        var images = new List<ImageReference>();
        foreach (var (text, where) in texts)
        {
            if (!ImageReference.TryParse(text, out var reference, out var problem))
            {
                stderr.WriteLine($"sl-images check: '{text}' ({where}) is not an image reference: {problem}");
                return null;
            }
            images.Add(reference);
        }
        if (request.Platform is { } platform && !PlatformPattern().IsMatch(platform))
        {
            stderr.WriteLine($"sl-images check: --platform '{platform}' is not a platform (expected os/architecture, e.g. linux/amd64 or linux/arm64)");
            return null;
        }
        TimeSpan? maxAge = null;
        if (request.MaxAge is { } age)
        {
            if (ParseAge(age) is not { } parsed)
            {
                stderr.WriteLine($"sl-images check: --max-age '{age}' is not an age (expected a number and a unit: 30d, 12h, 90m, 2w)");
                return null;
            }
            maxAge = parsed;
        }
        return new ValidInput(images.Distinct().ToList(), maxAge);
    }

    private static string[] ReadAllStandardInput()
    {
        var lines = new List<string>();
        while (Console.In.ReadLine() is { } line)
        {
            lines.Add(line);
        }
        return [.. lines];
    }

    public static TimeSpan? ParseAge(string text)
    {
        var match = AgePattern().Match(text.Trim());
        if (!match.Success || !double.TryParse(match.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0)
        {
            return null;
        }
        return match.Groups[2].Value switch
        {
            "w" => TimeSpan.FromDays(7 * value),
            "d" => TimeSpan.FromDays(value),
            "h" => TimeSpan.FromHours(value),
            _ => TimeSpan.FromMinutes(value),
        };
    }

    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]+)?)([wdhm])$")]
    private static partial Regex AgePattern();

    [GeneratedRegex("^[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?$")]
    private static partial Regex PlatformPattern();
}
