using System.Text;

namespace Sealights.Images.Testing;

/// <summary>Agent tokens for tests: JWT-shaped, with the claims the agent reads, never valid anywhere.</summary>
public static class SealightsTokens
{
    public static string Create(string server = "http://127.0.0.1:9/api", string subject = "customer@test.example")
    {
        static string Part(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        // A random signature makes every token unique, so a test can grep all output for it.
        var signature = Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return $"{Part("{\"alg\":\"HS256\",\"typ\":\"JWT\"}")}.{Part($"{{\"x-sl-server\":\"{server}\",\"subject\":\"{subject}\"}}")}.{signature}";
    }
}
