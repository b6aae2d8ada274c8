namespace Sealights.Images.Testing;

/// <summary>
/// A JSON-lines file another process is still appending to (the test backend's records, the agent's hits file).
/// Tests poll these while they grow, so the last line can be caught half written (a fresh-clone CI run failed
/// on one); only the lines ended by a newline are returned, and the rest is read on the next poll.
/// </summary>
public static class JsonLinesFile
{
    public static IReadOnlyList<string> CompleteLines(string path)
    {
        string text;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        using (var reader = new StreamReader(stream))
        {
            text = reader.ReadToEnd();
        }
        return text[..(text.LastIndexOf('\n') + 1)].Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
