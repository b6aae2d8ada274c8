using Sealights.Coverage.Tokens;
using System.CommandLine;
using Sealights.Images.Cli.Sealights;

namespace Sealights.Images.Cli.Commands;

/// <summary>
/// Where a verb gets the agent token: <c>--token-file</c>, else <c>SL_TOKEN</c>, else
/// <c>SL_TOKEN_FILE</c> (the agent's own variable names). The token is never an argument's value:
/// command lines end up in build logs.
/// </summary>
public static class TokenInput
{
    public static Option<FileInfo?> CreateOption() =>
        new("--token-file") { Description = "file holding the Sealights agent token (else SL_TOKEN or SL_TOKEN_FILE)" };

    /// <summary>The checked token, or null with one line on <paramref name="stderr"/> saying why.</summary>
    public static SealightsToken? Read(string verb, FileInfo? tokenFile, Func<string, string?> env, TextWriter stderr)
    {
        string? raw;
        string source;
        var file = tokenFile?.FullName ?? (string.IsNullOrWhiteSpace(env("SL_TOKEN")) ? NonEmpty(env("SL_TOKEN_FILE")) : null);
        if (file is not null)
        {
            source = tokenFile is not null ? $"--token-file {file}" : $"SL_TOKEN_FILE {file}";
            try
            {
                raw = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"sl-images {verb}: cannot read the token file {file} ({e.Message})");
                return null;
            }
        }
        else
        {
            source = "SL_TOKEN";
            raw = env("SL_TOKEN");
            if (string.IsNullOrWhiteSpace(raw))
            {
                stderr.WriteLine($"sl-images {verb}: no token: pass --token-file FILE or set SL_TOKEN (a Sealights agent token)");
                return null;
            }
        }
        if (!SealightsToken.TryParse(raw, out var token, out var problem))
        {
            stderr.WriteLine($"sl-images {verb}: the token ({source}) is refused: {problem}; nothing was sent");
            return null;
        }
        return token;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
