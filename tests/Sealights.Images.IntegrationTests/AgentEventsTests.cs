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
        var next = 0;
        var requests = new List<string>();
        await using var api = ScriptedExtensionsApi.Start(port, requests, path => path switch
        {
            "/2020-01-01/extension/event/next" when next < events.Length => (200, events[next++]),
            "/2020-01-01/extension/event/next" => (200, Shutdown("SpinDown")),
            _ => null,
        });

        var token = SealightsTokens.Create();
        var result = await RunAgentAsync(port, token);
        await api.DisposeAsync();
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

    [Fact]
    public async Task Once_registered_every_agent_thread_yields_the_CPU_and_the_runtimes_start_up_threads_idle()
    {
        var port = FreePorts.Next();
        var requests = new List<string>();
        IReadOnlyList<(int Thread, int Nice)>? threads = null;
        await using var api = ScriptedExtensionsApi.Start(port, requests, path =>
        {
            if (path != "/2020-01-01/extension/event/next")
            {
                return null;
            }
            // The agent writes its pid after registering and before its first next.
            var pid = int.Parse(File.ReadAllText(Path.Combine(_root, "state", "agent.pid")));
            threads = [.. Directory.EnumerateDirectories($"/proc/{pid}/task").Select(task => (int.Parse(Path.GetFileName(task)), NiceOf(task)))];
            return (200, Shutdown("SpinDown"));
        });

        var result = await RunAgentAsync(port, SealightsTokens.Create());
        await api.DisposeAsync();
        output.WriteLine(result.Output);
        output.WriteLine(string.Join('\n', threads?.Select(t => $"thread {t.Thread}: nice {t.Nice}") ?? []));

        Assert.Equal(0, result.ExitCode);
        Assert.NotNull(threads);
        // Background work after registering; the runtime's own start-up threads (its finalizer's
        // spin-wait calibration) were already lower and are never raised.
        Assert.All(threads, t => Assert.Contains(t.Nice, new[] { 10, 19 }));
        Assert.Contains(threads, t => t.Nice == 10);
        Assert.Contains(threads, t => t.Nice == 19);
        Assert.DoesNotContain("could not lower", result.Output);
    }

    private static string Shutdown(string reason) =>
        $$"""{"eventType":"SHUTDOWN","shutdownReason":"{{reason}}","deadlineMs":{{DateTimeOffset.UtcNow.AddSeconds(2).ToUnixTimeMilliseconds()}}}""";

    /// <summary>A thread's nice value: field 19 of its stat line, counted after the command name (which may hold spaces).</summary>
    private static int NiceOf(string taskFolder)
    {
        var stat = File.ReadAllText(Path.Combine(taskFolder, "stat"));
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16]);
    }

    private async Task<ProcessResult> RunAgentAsync(int port, string token) =>
        await ProcessRunner.RunAsync(
            await CoverageImages.PublishAgentAsync(),
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

    /// <summary>
    /// The Extensions API as real HTTP on loopback: register answers, the Telemetry API is refused
    /// the way AWS's emulator refuses it, and everything else is what <c>answer</c> says (null: 404).
    /// Each request is recorded as "METHOD path extension-name".
    /// </summary>
    private sealed class ScriptedExtensionsApi : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private Task _serving = Task.CompletedTask;

        public static ScriptedExtensionsApi Start(int port, List<string> requests, Func<string, (int Status, string Body)?> answer)
        {
            var api = new ScriptedExtensionsApi();
            api._listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            api._listener.Start();
            api._serving = Task.Run(() => api.ServeAsync(requests, answer));
            return api;
        }

        public async ValueTask DisposeAsync()
        {
            if (_listener.IsListening)
            {
                _listener.Stop();
                await _serving;
                _listener.Close();
            }
        }

        private async Task ServeAsync(List<string> requests, Func<string, (int Status, string Body)?> answer)
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
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
                    _ => answer(path) ?? (404, "{}"),
                };
                context.Response.StatusCode = status;
                context.Response.AddHeader("Lambda-Extension-Identifier", "ext-1");
                var bytes = Encoding.UTF8.GetBytes(body);
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        }
    }
}
