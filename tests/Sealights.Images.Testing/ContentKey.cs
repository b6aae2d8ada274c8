using System.Security.Cryptography;
using System.Text;

namespace Sealights.Images.Testing;

/// <summary>A short hash over source trees (bin/obj excluded), to reuse builds of unchanged sources.</summary>
public static class ContentKey
{
    public static string Of(IEnumerable<string> directories, params string[] extra)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var value in extra)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(value + "\0"));
        }
        foreach (var (directory, index) in directories.Select((d, i) => (d, i)))
        {
            var files = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
                .Where(f => !IsBuildOutput(Path.GetRelativePath(directory, f)))
                .Order(StringComparer.Ordinal);
            foreach (var file in files)
            {
                // Names relative to the tree: the same content hashes the same wherever it sits.
                hash.AppendData(Encoding.UTF8.GetBytes($"{index}:{Path.GetRelativePath(directory, file)}\0"));
                hash.AppendData(File.ReadAllBytes(file));
            }
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    private static bool IsBuildOutput(string relativePath)
    {
        var first = relativePath.Split(Path.DirectorySeparatorChar)[0];
        return first is "bin" or "obj";
    }
}
