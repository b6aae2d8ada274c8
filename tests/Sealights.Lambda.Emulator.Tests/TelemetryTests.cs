using System.Text.Json;
using System.Text.RegularExpressions;
using Sealights.Lambda.Emulator.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Emulator.Tests;

/// <summary>The Telemetry API (which AWS's RIE lacks): subscription, platform events, delivery rules.</summary>
public sealed partial class TelemetryTests(ITestOutputHelper output) : IDisposable
{
    private readonly FunctionSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private string Subscriber(string uri, string protocol = "HTTP") => $$$"""
        ext_register "$NAME" '["INVOKE","SHUTDOWN"]'
        call PUT "$TEL" -H "Lambda-Extension-Identifier: $EID" \
          -d '{"schemaVersion":"2022-12-13","types":["platform"],"buffering":{"maxItems":1000,"maxBytes":262144,"timeoutMs":25},"destination":{"protocol":"TCP","URI":"{{{uri}}}"}}' > "$OUT/tcp.txt"
        call PUT "$TEL" -H "Lambda-Extension-Identifier: $EID" \
          -d '{"schemaVersion":"2022-12-13","types":["platform"],"buffering":{"maxItems":1000,"maxBytes":262144,"timeoutMs":25},"destination":{"protocol":"HTTP","URI":"http://example.com:80/"}}' > "$OUT/remote.txt"
        call PUT "$TEL" -H "Lambda-Extension-Identifier: $EID" \
          -d '{"schemaVersion":"2022-12-13","types":["platform","function"],"buffering":{"maxItems":1000,"maxBytes":262144,"timeoutMs":25},"destination":{"protocol":"{{{protocol}}}","URI":"{{{uri}}}"}}' > "$OUT/subscribe.txt"
        while true; do
          ext_next
          case "$EVENT" in *SHUTDOWN*) sleep 0.3; exit 0;; esac
        done
        """;

    [Fact]
    public async Task Platform_events_arrive_in_order_with_their_records_and_only_while_thawed()
    {
        using var listener = new TelemetryListener();
        _sandbox.AddExtension("telemetry-ext", Subscriber(listener.SandboxUri));
        var runtime = _sandbox.AddRuntime("echo_loop");
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, new EmulatorStart
        {
            Environment = new Dictionary<string, string> { ["AWS_LAMBDA_FUNCTION_NAME"] = "observed", ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "256" },
            Flags = ["--log-level", "debug"],
        }, output);

        await emulator.InvokeAsync("one", new Dictionary<string, string> { ["X-Amzn-RequestId"] = "t-1" });
        await emulator.WaitForReportAsync("t-1");
        await emulator.InvokeAsync("two!", new Dictionary<string, string> { ["X-Amzn-RequestId"] = "t-2" });
        await emulator.WaitForReportAsync("t-2");
        // Frozen after t-2 (the second freeze): the emulator says the batch with its report is
        // held for the thaw; until then it cannot have arrived.
        await emulator.WaitForStderrAsync(l => l.Contains("event(s) for telemetry-ext wait for the thaw (freeze 2)", StringComparison.Ordinal));
        Assert.DoesNotContain(listener.Events, e => IsReportOf(e.Event, "t-2"));
        var sigterm = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.Equal(0, await emulator.StopAsync());

        Assert.StartsWith("200", _sandbox.ReadOutput("subscribe.txt"));
        Assert.StartsWith("400 ", _sandbox.ReadOutput("tcp.txt"));
        Assert.StartsWith("400 ", _sandbox.ReadOutput("remote.txt"));
        var events = listener.Events;
        var types = events.Select(e => e.Event.GetProperty("type").GetString()).ToList();
        Assert.Equal(
        [
            "platform.initStart", "platform.extension", "platform.telemetrySubscription", "platform.initRuntimeDone", "platform.initReport",
            "platform.start", "platform.runtimeDone", "platform.report",
            "platform.start", "platform.runtimeDone", "platform.report",
        ], types);
        Assert.All(events, e => Assert.Matches(Rfc3339(), e.Event.GetProperty("time").GetString()));

        JsonElement Record(string type, int occurrence = 0) =>
            events.Where(e => e.Event.GetProperty("type").GetString() == type).ElementAt(occurrence).Event.GetProperty("record");

        var initStart = Record("platform.initStart");
        Assert.Equal("on-demand", initStart.GetProperty("initializationType").GetString());
        Assert.Equal("init", initStart.GetProperty("phase").GetString());
        Assert.Equal("observed", initStart.GetProperty("functionName").GetString());
        Assert.Equal("$LATEST", initStart.GetProperty("functionVersion").GetString());
        Assert.Equal("success", Record("platform.initRuntimeDone").GetProperty("status").GetString());
        var initReport = Record("platform.initReport");
        Assert.Equal("success", initReport.GetProperty("status").GetString());
        Assert.True(initReport.GetProperty("metrics").GetProperty("durationMs").GetDouble() > 0);

        Assert.Equal("t-1", Record("platform.start").GetProperty("requestId").GetString());
        Assert.Equal("$LATEST", Record("platform.start").GetProperty("version").GetString());
        var runtimeDone = Record("platform.runtimeDone", 1);
        Assert.Equal("t-2", runtimeDone.GetProperty("requestId").GetString());
        Assert.Equal("success", runtimeDone.GetProperty("status").GetString());
        Assert.Equal(4, runtimeDone.GetProperty("metrics").GetProperty("producedBytes").GetInt64());
        Assert.True(runtimeDone.GetProperty("metrics").GetProperty("durationMs").GetDouble() > 0);

        var coldReport = Record("platform.report").GetProperty("metrics");
        var warmReport = Record("platform.report", 1).GetProperty("metrics");
        Assert.Equal(256, coldReport.GetProperty("memorySizeMB").GetInt32());
        Assert.True(coldReport.GetProperty("maxMemoryUsedMB").GetInt32() > 0);
        Assert.True(coldReport.GetProperty("initDurationMs").GetDouble() > 0);
        Assert.False(warmReport.TryGetProperty("initDurationMs", out _));
        Assert.True(warmReport.GetProperty("billedDurationMs").GetInt64() >= Math.Ceiling(warmReport.GetProperty("durationMs").GetDouble()));
        // Invoke 2's report waited for the thaw at shutdown.
        Assert.True(events.Single(e => IsReportOf(e.Event, "t-2")).ReceivedMs >= sigterm);
    }

    [Fact]
    public async Task A_subscriber_that_is_down_is_given_up_and_the_function_keeps_answering()
    {
        var port = EmulatorProcess.FreePort(); // nobody listens there
        _sandbox.AddExtension("telemetry-ext", Subscriber($"http://sandbox.localdomain:{port}/"));
        var runtime = _sandbox.AddRuntime("echo_loop");
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);

        // Deliveries (and their retries) happen only while the environment is thawed: keep invoking
        // until the emulator gives the batch up.
        var results = new List<InvokeResponse>();
        while (!emulator.Stderr.Any(l => l.Contains("telemetry: dropped", StringComparison.Ordinal)))
        {
            Assert.True(results.Count < 40, "the undeliverable batch was never dropped");
            results.Add(await emulator.InvokeAsync($"call {results.Count}"));
            await Task.Delay(100);
        }

        Assert.All(results, r => Assert.Null(r.FunctionError));
        // After the batch was given up the function still answers.
        Assert.Null((await emulator.InvokeAsync("after the drop")).FunctionError);
    }

    /// <summary>
    /// The caller's answer never waits for a delivery, shown by events rather than by latency: a
    /// subscriber that accepts and never answers keeps a delivery in flight for 5 s per attempt
    /// (then retries, then a "dropped" line); the answer comes while none of that has ended.
    /// </summary>
    [Fact]
    public async Task A_subscriber_that_hangs_never_holds_the_answer_back()
    {
        using var hanging = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        hanging.Start();
        var port = ((System.Net.IPEndPoint)hanging.LocalEndpoint).Port;
        var connected = hanging.AcceptTcpClientAsync();
        _sandbox.AddExtension("telemetry-ext", Subscriber($"http://sandbox.localdomain:{port}/"));
        var runtime = _sandbox.AddRuntime("echo_loop");
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);

        var answer = await emulator.InvokeAsync("x");
        var droppedBeforeTheAnswer = emulator.Stderr.Any(l => l.Contains("telemetry: dropped", StringComparison.Ordinal));

        Assert.Equal("x", answer.Body);
        Assert.False(droppedBeforeTheAnswer, "the answer came only after the delivery was given up");
        // A delivery was indeed attempted (and is held open by the subscriber, never answered).
        using var delivery = await connected.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(delivery.Connected);
    }

    private static bool IsReportOf(JsonElement e, string requestId) =>
        e.GetProperty("type").GetString() == "platform.report" && e.GetProperty("record").GetProperty("requestId").GetString() == requestId;

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")]
    private static partial Regex Rfc3339();
}
