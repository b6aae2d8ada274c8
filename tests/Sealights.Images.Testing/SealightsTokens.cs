using System.Text;
using System.Text.Json.Nodes;

namespace Sealights.Images.Testing;

/// <summary>
/// Agent tokens for tests: JWTs with the claims Sealights' agents read, never valid anywhere (the
/// signature is random). The claims are those slnodejs 6.1.1133 checks before it talks to the
/// service: <c>subject</c> (customerId@…), <c>x-sl-server</c>, and <c>x-sl-role</c> = <c>agent</c>
/// (see tests/Sealights.Lambda.Agent.Delivery.Tests/Conformance/README.md).
/// </summary>
public static class SealightsTokens
{
    public static string Create(string server = "http://127.0.0.1:9/api", string subject = "customer@test.example") =>
        Create(AgentClaims(server, subject));

    /// <summary>The claims of an agent token: start from these and remove or change one to test a refusal.</summary>
    public static JsonObject AgentClaims(string server = "http://127.0.0.1:9/api", string subject = "customer@test.example") => new()
    {
        ["x-sl-role"] = "agent",
        ["x-sl-server"] = server,
        ["subject"] = subject,
    };

    public static string Create(JsonObject claims)
    {
        static string Part(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        // A random signature makes every token unique, so a test can grep all output for it.
        var signature = Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return $"{Part("{\"alg\":\"HS256\",\"typ\":\"JWT\"}")}.{Part(claims.ToJsonString())}.{signature}";
    }
}
