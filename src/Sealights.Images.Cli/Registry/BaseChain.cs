namespace Sealights.Images.Cli.Registry;

public enum LevelStatus
{
    /// <summary>The recorded base is the base tag's current image for the platform.</summary>
    Fresh,

    /// <summary>The base tag has moved on: a newer base exists for the platform.</summary>
    Stale,

    /// <summary>Current, but the base was created longer ago than --max-age.</summary>
    TooOld,
}

public enum CheckOutcome
{
    Fresh,
    Stale,

    /// <summary>The image cannot be checked as given: no base labels, a label that is not a reference or digest.</summary>
    Unchecked,

    /// <summary>A registry could not be reached, refused access, or lacks the image or platform.</summary>
    RegistryError,
}

/// <summary>One link of the chain: <see cref="Image"/> was built on <see cref="BaseName"/> at <see cref="RecordedDigest"/>.</summary>
/// <param name="CurrentDigest">The base tag's per-platform manifest digest now.</param>
/// <param name="BaseCreated">The recorded base's config <c>created</c>, if the registry still has it.</param>
public sealed record ChainLevel(
    string Image,
    string ImageDigest,
    string BaseName,
    string RecordedDigest,
    string CurrentDigest,
    string? CurrentIndexDigest,
    DateTimeOffset? BaseCreated,
    TimeSpan? BaseAge,
    LevelStatus Status,
    string? Note);

public sealed record ChainResult(string Image, string Platform, IReadOnlyList<ChainLevel> Levels, CheckOutcome Outcome, string? Error);

/// <summary>
/// Follows an image's <c>org.opencontainers.image.base.name</c>/<c>.base.digest</c> labels down
/// its chain (application → coverage-ready image → AWS base), comparing at each level the
/// recorded base digest with the base tag's current digest for the same platform. The next
/// level is the base as recorded (what the image is really made of), while the registry has it.
/// </summary>
public sealed partial class BaseChainWalker(RegistryClient client, DateTimeOffset now, TimeSpan? maxAge)
{
    public const string BaseNameLabel = "org.opencontainers.image.base.name";
    public const string BaseDigestLabel = "org.opencontainers.image.base.digest";

    /// <summary>Deeper than any real chain; stops a label loop.</summary>
    private const int MaxDepth = 8;

    /// <summary>The image checked for <paramref name="platform"/>, or for each of its own platforms when null.</summary>
    public async Task<IReadOnlyList<ChainResult>> CheckAsync(ImageReference image, string? platform, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> platforms;
        try
        {
            platforms = platform is null ? await client.PlatformsAsync(image, cancellationToken) : [platform];
        }
        catch (RegistryException e)
        {
            return [new ChainResult(image.ToString(), platform ?? "-", [], CheckOutcome.RegistryError, e.Message)];
        }
        if (platforms.Count == 0)
        {
            return [new ChainResult(image.ToString(), "-", [], CheckOutcome.Unchecked, $"{image} is an index without platform entries")];
        }
        var results = new List<ChainResult>();
        foreach (var each in platforms)
        {
            results.Add(await WalkAsync(image, each, cancellationToken));
        }
        return results;
    }

    private async Task<ChainResult> WalkAsync(ImageReference image, string platform, CancellationToken cancellationToken)
    {
        var levels = new List<ChainLevel>();
        ChainResult Result(CheckOutcome outcome, string? error = null) =>
            new(image.ToString(), platform, levels, outcome, error);
        try
        {
            var current = await client.InspectAsync(image, platform, cancellationToken);
            if (!current.Labels.ContainsKey(BaseNameLabel) || !current.Labels.ContainsKey(BaseDigestLabel))
            {
                return Result(CheckOutcome.Unchecked,
                    $"{image} has no {BaseNameLabel}/{BaseDigestLabel} labels: it does not record its base, so there is nothing to compare (build it with the .NET SDK container build or on a Sealights coverage-ready image)");
            }
            for (var depth = 0; depth < MaxDepth && current.Labels.TryGetValue(BaseNameLabel, out var baseName); depth++)
            {
                var recorded = current.Labels.GetValueOrDefault(BaseDigestLabel, "");
                if (!ImageReference.TryParse(baseName, out var baseReference, out var problem))
                {
                    return Result(CheckOutcome.Unchecked, $"{current.Reference}'s {BaseNameLabel} label '{baseName}' is not an image reference: {problem}");
                }
                if (!DigestPattern().IsMatch(recorded))
                {
                    return Result(CheckOutcome.Unchecked, $"{current.Reference}'s {BaseDigestLabel} label '{recorded}' is not a digest: its base was not recorded");
                }
                if (baseReference.Tag is null && baseReference.Digest is not null)
                {
                    return Result(CheckOutcome.Unchecked, $"{current.Reference}'s base {baseName} is pinned by digest, with no tag whose current image could be compared");
                }
                var tagReference = baseReference with { Digest = null };
                var currentBase = await client.InspectAsync(tagReference, platform, cancellationToken);
                var fresh = recorded == currentBase.ManifestDigest || recorded == currentBase.IndexDigest;
                var recordedReference = tagReference with { Digest = recorded };
                var recordedBase = fresh ? currentBase with { Reference = recordedReference } : await FindAsync(recordedReference, platform, cancellationToken);
                var age = recordedBase?.Created is { } created ? now - created : (TimeSpan?)null;
                var status = !fresh ? LevelStatus.Stale : maxAge is { } limit && age > limit ? LevelStatus.TooOld : LevelStatus.Fresh;
                levels.Add(new ChainLevel(
                    current.Reference.ToString(), current.ManifestDigest, tagReference.ToString(), recorded, currentBase.ManifestDigest, currentBase.IndexDigest,
                    recordedBase?.Created, age, status,
                    recordedBase is null ? "the recorded base is no longer in the registry: the chain stops here" : null));
                if (recordedBase is null)
                {
                    break;
                }
                current = recordedBase;
            }
            return Result(levels.Any(l => l.Status != LevelStatus.Fresh) ? CheckOutcome.Stale : CheckOutcome.Fresh);
        }
        catch (RegistryException e)
        {
            return Result(CheckOutcome.RegistryError, e.Message);
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex("^sha256:[0-9a-f]{64}$")]
    private static partial System.Text.RegularExpressions.Regex DigestPattern();

    private async Task<PlatformImage?> FindAsync(ImageReference image, string platform, CancellationToken cancellationToken)
    {
        try
        {
            return await client.InspectAsync(image, platform, cancellationToken);
        }
        catch (RegistryException e) when (e.NotFound)
        {
            return null;
        }
    }
}
