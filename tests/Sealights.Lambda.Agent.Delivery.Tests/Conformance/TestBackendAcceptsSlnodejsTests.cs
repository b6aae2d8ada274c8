using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests.Conformance;

/// <summary>
/// The stand-in backend accepts what the real service evidently accepts: every footprints request
/// slnodejs 6.1.1133 made in the recordings (its routes, content types, headers, bodies in epoch
/// seconds, an earlier execution's id in the body) is replayed to it and must be answered 200; and
/// it refuses what slnodejs never sends (milliseconds, another content type).
/// </summary>
public sealed class TestBackendAcceptsSlnodejsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Conformance", "slnodejs-6.1.1133");

    private readonly DeliveryScope _scope = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    private static IEnumerable<JsonObject> RecordedFootprints() =>
        Directory.GetFiles(Fixtures, "*.jsonl").Order()
            .SelectMany(File.ReadAllLines)
            .Where(l => l.Length > 0)
            .Select(l => JsonNode.Parse(l)!.AsObject())
            .Where(r => ((string?)r["route"])?.EndsWith("footprints", StringComparison.Ordinal) == true);

    private HttpRequestMessage Replay(int port, JsonObject recorded, Func<JsonNode, JsonNode>? changeBody = null, string? contentType = null)
    {
        var body = recorded["body"]!.DeepClone();
        body = changeBody?.Invoke(body) ?? body;
        using var zipped = new MemoryStream();
        using (var gzip = new GZipStream(zipped, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(body.ToJsonString()));
        }
        var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}{(string)recorded["rawTarget"]!}")
        {
            Content = new ByteArrayContent(zipped.ToArray()),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType ?? (string)recorded["headers"]!["content-type"]!);
        request.Content.Headers.ContentEncoding.Add("gzip");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + _scope.RawToken);
        foreach (var (name, value) in recorded["headers"]!.AsObject())
        {
            if (name.StartsWith("x-sl-", StringComparison.Ordinal) || name == "sl-metadata")
            {
                request.Headers.TryAddWithoutValidation(name, (string)value!);
            }
        }
        return request;
    }

    [Fact]
    public async Task Every_footprints_request_slnodejs_made_is_accepted()
    {
        var backend = await _scope.StartBackendAsync(tokenNamesBackend: false);
        using var http = new HttpClient();
        var recorded = RecordedFootprints().ToList();
        Assert.True(recorded.Count >= 10, $"only {recorded.Count} recorded footprints requests");
        Assert.Contains(recorded, r => (string?)r["headers"]!["content-type"] == "application/octet-stream");
        Assert.Contains(recorded, r => (string?)r["headers"]!["content-type"] == "application/json");

        foreach (var request in recorded)
        {
            using var replay = Replay(backend.Port, request);
            using var answer = await http.SendAsync(replay);
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{request["path"]}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
        }
        Assert.Equal(recorded.Count, backend.FootprintsRecords().Count);
    }

    [Fact]
    public async Task Milliseconds_and_other_content_types_are_refused()
    {
        var backend = await _scope.StartBackendAsync(tokenNamesBackend: false);
        using var http = new HttpClient();
        var request = RecordedFootprints().First(r => (string?)r["route"] == "footprints");

        using var milliseconds = Replay(backend.Port, request, body =>
        {
            foreach (var hit in body["executions"]!.AsArray().SelectMany(e => e!["hits"]!.AsArray()))
            {
                hit!["start"] = (long)hit["start"]! * 1000;
                hit["end"] = (long)hit["end"]! * 1000;
            }
            return body;
        });
        using var text = Replay(backend.Port, request, contentType: "text/plain");

        Assert.Equal(HttpStatusCode.BadRequest, (await http.SendAsync(milliseconds)).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await http.SendAsync(text)).StatusCode);
        Assert.Empty(backend.FootprintsRecords());
    }
}
