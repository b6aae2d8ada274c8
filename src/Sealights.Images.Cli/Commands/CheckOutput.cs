using System.Text.Encodings.Web;
using System.Text.Json;
using Sealights.Images.Cli.Registry;

namespace Sealights.Images.Cli.Commands;

/// <summary><c>sl-images check</c>'s output: a table with one row per chain level for people, or JSON for CI.</summary>
public static class CheckOutput
{
    public static void WriteTable(TextWriter stdout, IReadOnlyList<ChainResult> results)
    {
        var rows = new List<string[]> { new[] { "IMAGE", "PLATFORM", "BUILT ON", "RECORDED", "CURRENT", "BASE AGE", "STATUS" } };
        foreach (var result in results)
        {
            if (result.Levels.Count == 0)
            {
                rows.Add([result.Image, result.Platform, "-", "-", "-", "-", Describe(result.Outcome)]);
            }
            for (var i = 0; i < result.Levels.Count; i++)
            {
                var level = result.Levels[i];
                var image = i == 0 ? result.Image : new string(' ', 2 * i) + "└ " + ShortReference(level.Image);
                rows.Add([image, result.Platform, level.BaseName, Short(level.RecordedDigest), Short(level.CurrentDigest), Age(level.BaseAge), Describe(level.Status)]);
            }
        }
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            stdout.WriteLine(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
        }
        stdout.WriteLine();
        foreach (var result in results)
        {
            stdout.WriteLine($"{result.Image} ({result.Platform}): {Verdict(result)}");
        }
    }

    public static void WriteJson(TextWriter stdout, IReadOnlyList<ChainResult> results, int exitCode)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("status", exitCode switch { ExitCodes.Success => "fresh", ExitCodes.Finding => "stale", _ => "error" });
            json.WriteNumber("exitCode", exitCode);
            json.WriteStartArray("images");
            foreach (var result in results)
            {
                json.WriteStartObject();
                json.WriteString("image", result.Image);
                json.WriteString("platform", result.Platform);
                json.WriteString("status", Describe(result.Outcome));
                json.WriteString("error", result.Error);
                json.WriteStartArray("levels");
                foreach (var level in result.Levels)
                {
                    json.WriteStartObject();
                    json.WriteString("image", level.Image);
                    json.WriteString("digest", level.ImageDigest);
                    json.WriteString("baseName", level.BaseName);
                    json.WriteString("recordedBaseDigest", level.RecordedDigest);
                    json.WriteString("currentBaseDigest", level.CurrentDigest);
                    json.WriteString("currentBaseIndexDigest", level.CurrentIndexDigest);
                    json.WriteString("baseCreated", level.BaseCreated?.ToString("O"));
                    if (level.BaseAge is { } age)
                    {
                        json.WriteNumber("baseAgeDays", Math.Round(age.TotalDays, 2));
                    }
                    else
                    {
                        json.WriteNull("baseAgeDays");
                    }
                    json.WriteString("status", Describe(level.Status));
                    json.WriteString("note", level.Note);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        stdout.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static string Verdict(ChainResult result)
    {
        if (result.Error is not null)
        {
            return $"{Describe(result.Outcome).ToUpperInvariant()}: {result.Error}";
        }
        // The deepest stale level is where a rebuild starts; everything built on it follows.
        var deepest = result.Levels.LastOrDefault(l => l.Status == LevelStatus.Stale);
        if (deepest is not null)
        {
            var then = deepest == result.Levels[0] ? "" : ", then the images built on it";
            return $"STALE: {deepest.BaseName} has moved on ({Short(deepest.CurrentDigest)}); rebuild {WithoutDigest(deepest.Image)}{then}";
        }
        var old = result.Levels.FirstOrDefault(l => l.Status == LevelStatus.TooOld);
        return old is not null
            ? $"TOO OLD: {old.BaseName} is current but was created {Age(old.BaseAge)} ago, beyond --max-age"
            : $"FRESH: built on the current {string.Join(" on ", result.Levels.Select(l => l.BaseName))}";
    }

    private static string Describe(CheckOutcome outcome) => outcome switch
    {
        CheckOutcome.Fresh => "fresh",
        CheckOutcome.Stale => "stale",
        CheckOutcome.Unchecked => "unchecked",
        _ => "error",
    };

    private static string Describe(LevelStatus status) => status switch
    {
        LevelStatus.Fresh => "fresh",
        LevelStatus.Stale => "stale",
        _ => "too-old",
    };

    private static string WithoutDigest(string reference) => reference.Split('@')[0];

    private static string ShortReference(string reference) =>
        reference.IndexOf('@') is var at and > 0 ? $"{reference[..at]}@{Short(reference[(at + 1)..])}" : reference;

    private static string Short(string digest) => digest.StartsWith("sha256:", StringComparison.Ordinal) && digest.Length > 19 ? digest[..19] : digest;

    private static string Age(TimeSpan? age) => age switch
    {
        null => "?",
        { TotalDays: >= 1 } a => $"{(int)a.TotalDays}d",
        { TotalHours: >= 1 } a => $"{(int)a.TotalHours}h",
        { } a => $"{Math.Max(0, (int)a.TotalMinutes)}m",
    };
}
