using System.CommandLine;
using System.Text.Json;
using Sealights.Images.Cli.Registry;

namespace Sealights.Images.Cli.Commands;

/// <summary>
/// <c>sl-images inspect IMAGE</c>: one platform's manifest digest (what the SDK and our base
/// image record as <c>org.opencontainers.image.base.digest</c>), the index digest, and labels.
/// </summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("image") { Description = "image reference, e.g. localhost:5000/lambda/dotnet:10" };
        var platform = new Option<string>("--platform") { Description = "os/architecture", DefaultValueFactory = _ => "linux/amd64" };
        var digestOnly = new Option<bool>("--digest") { Description = "print only the per-platform manifest digest" };
        var command = new Command("inspect", "show an image's per-platform digest and labels from its registry") { image, platform, digestOnly };
        command.SetAction((parse, cancellationToken) =>
            RunAsync(parse.GetValue(image)!, parse.GetValue(platform)!, parse.GetValue(digestOnly), Console.Out, Console.Error, cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(string image, string platform, bool digestOnly, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (!ImageReference.TryParse(image, out var reference, out var problem))
        {
            stderr.WriteLine($"sl-images inspect: {problem}");
            return ExitCodes.InvalidInput;
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            var result = await new RegistryClient(http).InspectAsync(reference, platform, cancellationToken);
            if (digestOnly)
            {
                stdout.WriteLine(result.ManifestDigest);
                return ExitCodes.Success;
            }
            using var json = new Utf8JsonWriter(Console.OpenStandardOutput(), new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            json.WriteStartObject();
            json.WriteString("image", result.Reference.ToString());
            json.WriteString("platform", result.Platform);
            json.WriteString("digest", result.ManifestDigest);
            json.WriteString("indexDigest", result.IndexDigest);
            json.WriteString("configDigest", result.ConfigDigest);
            json.WriteString("created", result.Created?.ToString("O"));
            json.WriteStartObject("labels");
            foreach (var (key, value) in result.Labels)
            {
                json.WriteString(key, value);
            }
            json.WriteEndObject();
            json.WriteEndObject();
            json.Flush();
            stdout.WriteLine();
            return ExitCodes.Success;
        }
        catch (RegistryException e)
        {
            stderr.WriteLine($"sl-images inspect: {e.Message}");
            return ExitCodes.InvalidInput;
        }
    }
}
