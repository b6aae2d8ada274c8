using System.Net;
using System.Text;
using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// Events the emulator never sends: the published agent binary, as a process, against a scripted
/// Extensions API (real HTTP on loopback) that answers with malformed and oddly cased events and
/// refuses the Telemetry API the way AWS's emulator does.
/// </summary>
public sealed class AgentEventsTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sl-agent-events-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Malformed_INVOKE_payloads_and_an_unknown_shutdownReason_casing_end_in_a_clean_shutdown()
    {
        var port = FreePorts.Next();
        string[] events =
        [
            """{"eventType":"INVOKE","requestId":"r1","deadlineMs":""",
            $$"""{"eventType":"invoke","requestId":"r2","deadlineMs":{{DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds()}}}""",
            """[1,2,3]""",
            "",
        ];
        var requests = new List<string>();
        using var api = new HttpListener();
        api.Prefixes.Add($"http://127.0.0.1:{port}/");
        api.Start();
        var serving = Task.Run(async () =>
        {
            var next = 0;
            while (api.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await api.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                var path = context.Request.Url!.AbsolutePath;
                lock (requests)
                {
                    requests.Add($"{context.Request.HttpMethod} {path} {context.Request.Headers["Lambda-Extension-Name"]}");
                }
                var (status, body) = path switch
                {
                    "/2020-01-01/extension/register" => (200, """{"functionName":"f","functionVersion":"$LATEST","handler":"h"}"""),
                    // What AWS's emulator answers.
                    "/2022-07-01/telemetry" => (202, """{"errorMessage":"Telemetry API is not supported","errorType":"Telemetry.NotSupported"}"""),
                    "/2020-01-01/extension/event/next" when next < events.Length => (200, events[next++]),
                    "/2020-01-01/extension/event/next" => (200, $$"""{"eventType":"SHUTDOWN","shutdownReason":"SpinDown","deadlineMs":{{DateTimeOffset.UtcNow.AddSeconds(2).ToUnixTimeMilliseconds()}}}"""),
                    _ => (404, "{}"),
                };
                context.Response.StatusCode = status;
                context.Response.AddHeader("Lambda-Extension-Identifier", "ext-1");
                var bytes = Encoding.UTF8.GetBytes(body);
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        });

        var token = SealightsTokens.Create();
        var agent = await CoverageImages.PublishAgentAsync();
        var result = await ProcessRunner.RunAsync(
            agent,
            ["--extension-name", "sealights-agent"],
            TimeSpan.FromSeconds(30),
            environment: new Dictionary<string, string>
            {
                ["AWS_LAMBDA_RUNTIME_API"] = $"127.0.0.1:{port}",
                ["SL_TOKEN"] = token,
                ["SL_BUILD_SESSION_ID"] = "bsid-events",
                // Nothing listens there: delivery fails fast and must not matter.
                ["SL_COLLECTOR_URL"] = $"http://127.0.0.1:{FreePorts.Next()}",
                ["SL_AGENT_STATE_DIR"] = Path.Combine(_root, "state"),
                ["SL_SPOOL_DIR"] = Path.Combine(_root, "spool"),
                ["SL_TASK_ROOT"] = _root,
            });
        api.Stop();
        await serving;
        output.WriteLine(result.Output);
        output.WriteLine(string.Join('\n', requests));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("POST /2020-01-01/extension/register sealights-agent", requests);
        Assert.Contains("the Telemetry API is not offered here: 202", result.Output);
        Assert.Contains("an event the agent cannot read (not valid JSON): taken for an INVOKE", result.Output);
        Assert.Contains("an event the agent cannot read (not a JSON object): taken for an INVOKE", result.Output);
        Assert.Contains("SHUTDOWN (SpinDown) after 4 invocations", result.Output);
        Assert.DoesNotContain("Unhandled", result.Output);
        Assert.DoesNotContain(token, result.Output);
    }
}
