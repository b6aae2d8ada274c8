using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Sealights.Images.Cli.Registry;

/// <summary>
/// <c>[registry/]repository[:tag][@digest]</c>, with Docker's conventions: no registry part means
/// Docker Hub, and a first path part is a registry only if it has a dot or a port or is localhost.
/// </summary>
public sealed partial record ImageReference(string Registry, string Repository, string? Tag, string? Digest)
{
    public const string DockerHub = "registry-1.docker.io";

    /// <summary>The tag or digest to ask the registry for.</summary>
    public string Reference => Digest ?? Tag ?? "latest";

    /// <summary>Registries spoken to over plain HTTP: loopback ones, as the .NET SDK and Docker do.</summary>
    public bool IsLoopback =>
        Registry.StartsWith("localhost", StringComparison.OrdinalIgnoreCase) || Registry.StartsWith("127.", StringComparison.Ordinal) || Registry.StartsWith("[::1]", StringComparison.Ordinal);

    public override string ToString() =>
        $"{Registry}/{Repository}{(Tag is null ? "" : ":" + Tag)}{(Digest is null ? "" : "@" + Digest)}";

    public static bool TryParse(string text, [NotNullWhen(true)] out ImageReference? reference, [NotNullWhen(false)] out string? problem)
    {
        reference = null;
        var value = text.Trim();
        string? digest = null;
        var at = value.IndexOf('@');
        if (at >= 0)
        {
            digest = value[(at + 1)..];
            value = value[..at];
            if (!DigestPattern().IsMatch(digest))
            {
                problem = $"'{digest}' is not a digest (expected sha256:<64 hex>)";
                return false;
            }
        }
        string? tag = null;
        var lastSlash = value.LastIndexOf('/');
        var colon = value.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = value[(colon + 1)..];
            value = value[..colon];
        }
        var parts = value.Split('/');
        string registry;
        if (parts.Length > 1 && (parts[0].Contains('.') || parts[0].Contains(':') || parts[0] == "localhost"))
        {
            registry = parts[0];
            value = string.Join('/', parts[1..]);
        }
        else
        {
            registry = DockerHub;
            value = parts.Length == 1 ? "library/" + value : value;
        }
        if (!RepositoryPattern().IsMatch(value))
        {
            problem = $"'{value}' is not a repository name (lowercase letters, digits, separators)";
            return false;
        }
        if (tag is not null && !TagPattern().IsMatch(tag))
        {
            problem = $"'{tag}' is not a tag";
            return false;
        }
        reference = new ImageReference(registry, value, tag, digest);
        problem = null;
        return true;
    }

    [GeneratedRegex("^sha256:[0-9a-f]{64}$")]
    private static partial Regex DigestPattern();

    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();
}
