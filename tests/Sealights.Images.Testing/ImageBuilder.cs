using System.Security.Cryptography;
using System.Text;

namespace Sealights.Images.Testing;

/// <summary>A file to place into an image; executable files get mode 0755.</summary>
public sealed record ImageFile(string PathInImage, string Content, bool Executable = false);

/// <summary>
/// Builds small derived images (a base plus files, environment and CMD) with the real Docker
/// engine. The tag is the run's id and a key of the content, so an unchanged image is built once a
/// run; the run removes it at its end (<see cref="TestRun"/>): rebuilding is a COPY layer.
/// </summary>
public static class ImageBuilder
{
    public static async Task<string> BuildAsync(
        string baseImage,
        IReadOnlyList<ImageFile> files,
        string? cmd = null,
        IReadOnlyDictionary<string, string>? environment = null,
        string? copyDirectoryTo = null,
        string? copyDirectoryFrom = null)
    {
        var dockerfile = new StringBuilder();
        dockerfile.AppendLine($"FROM {baseImage}");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            dockerfile.AppendLine($"ENV {name}={value}");
        }
        if (copyDirectoryFrom is not null)
        {
            dockerfile.AppendLine($"COPY dir/ {copyDirectoryTo}");
        }
        if (files.Count > 0)
        {
            dockerfile.AppendLine("COPY files/ /");
        }
        if (cmd is not null)
        {
            dockerfile.AppendLine($"CMD [\"{cmd}\"]");
        }

        // The base's image id is part of the key: a rebuilt base must not reuse a stale child.
        var baseId = await DockerCli.InspectAsync(baseImage, "{{.Id}}");
        var key = ContentKey(baseId + "\n" + dockerfile, files, copyDirectoryFrom);
        var tag = $"sl-it/derived:{TestRun.Id}-{key}";
        var existing = await DockerCli.RunAsync(["image", "inspect", "--format", "{{.Id}}", tag]);
        if (existing.ExitCode == 0)
        {
            return tag;
        }

        var context = Path.Combine(RepositoryPaths.Artifacts, "it-contexts", key);
        if (Directory.Exists(context))
        {
            Directory.Delete(context, recursive: true);
        }
        Directory.CreateDirectory(context);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), dockerfile.ToString());
        foreach (var file in files)
        {
            var target = Path.Combine(context, "files", file.PathInImage.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await File.WriteAllTextAsync(target, file.Content.Replace("\r\n", "\n"));
            if (OperatingSystem.IsWindows())
            {
                throw new PlatformNotSupportedException("image contexts need Unix file modes");
            }
            File.SetUnixFileMode(target, file.Executable
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        if (copyDirectoryFrom is not null)
        {
            CopyDirectory(copyDirectoryFrom, Path.Combine(context, "dir"));
        }
        await DockerCli.BuildAsync(context, tag);
        return tag;
    }

    private static string ContentKey(string dockerfile, IReadOnlyList<ImageFile> files, string? directory)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(dockerfile));
        foreach (var file in files)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{file.PathInImage}\0{file.Executable}\0{file.Content}\0"));
        }
        if (directory is not null)
        {
            foreach (var path in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                hash.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(directory, path) + "\0"));
                hash.AppendData(File.ReadAllBytes(path));
            }
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    /// <summary>Copies a folder's files, subfolders included, over whatever <paramref name="to"/> holds.</summary>
    public static void CopyDirectory(string from, string to)
    {
        foreach (var path in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, path));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(path, target, overwrite: true);
        }
    }
}
