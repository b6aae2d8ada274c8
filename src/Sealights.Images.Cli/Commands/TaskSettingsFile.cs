using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sealights.Images.Cli.Commands;

/// <summary>
/// The agent's settings file in the function's folder (<c>/var/task/sealights.json</c>, keys =
/// the agent's variable names): the build puts the bsid there so the function needs only the token.
/// </summary>
public static class TaskSettingsFile
{
    public const string BuildSessionIdKey = "SL_BUILD_SESSION_ID";

    /// <summary>Sets <see cref="BuildSessionIdKey"/>, keeping the file's other keys; creates the file if missing.</summary>
    /// <exception cref="FormatException">The file exists but is not a JSON object.</exception>
    public static void SetBuildSessionId(string path, string bsid)
    {
        JsonObject settings = [];
        if (File.Exists(path))
        {
            try
            {
                settings = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip }) as JsonObject
                    ?? throw new FormatException("it is not a JSON object");
            }
            catch (JsonException e)
            {
                throw new FormatException($"it is not valid JSON: {e.Message}", e);
            }
        }
        settings[BuildSessionIdKey] = bsid;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, settings.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
