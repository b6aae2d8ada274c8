using System.Text;
using System.Text.Json;

namespace Sealights.Images.Cli.Collector;

/// <summary>
/// An agent token for this collector only, so a local run needs no Sealights account and nobody
/// has to make a JWT by hand: the claims the agent checks (subject, <c>x-sl-role</c> agent,
/// <c>x-sl-server</c> this collector), <c>alg</c> none and a placeholder signature (agents do not
/// verify signatures; Sealights would refuse it, and it names no Sealights server).
/// </summary>
public static class LocalAgentToken
{
    public static string For(string collectorBaseUrl) =>
        $"{Base64Url(Json(("alg", "none"), ("typ", "JWT")))}.{Base64Url(Json(("subject", "sl-images-collect@localhost"), ("x-sl-role", "agent"), ("x-sl-server", collectorBaseUrl.TrimEnd('/') + "/api")))}.{Base64Url(Encoding.UTF8.GetBytes("local-collector"))}";

    private static byte[] Json(params (string Name, string Value)[] claims)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var (name, value) in claims)
            {
                json.WriteString(name, value);
            }
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
