using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Sealights.Images.IntegrationTests.Infrastructure;
using Sealights.Images.Testing;

namespace Sealights.Images.IntegrationTests;

/// <summary>External extensions in /opt/extensions under the emulator, in the stand-in image.</summary>
[Collection(StandInCollection.Name)]
public sealed partial class ExtensionLifecycleTests(StandInFixture images) : IDisposable
{
    private readonly string _outputDirectory = Directory.CreateTempSubdirectory("sl-ext-out-").FullName;

    public void Dispose() => Directory.Delete(_outputDirectory, recursive: true);

    private string[] Mount => ["--volume", $"{_outputDirectory}:{TestExtensions.OutputDirectory}"];

    [Fact]
    public async Task An_extension_gets_INVOKE_per_request_and_SHUTDOWN_with_a_deadline_on_docker_stop()
    {
        var image = await ImageBuilder.BuildAsync(images.SampleImage10, [TestExtensions.Recorder("recorder")]);
        await using var container = await LambdaContainer.StartAsync(image, extraRunArguments: Mount);

        var requestIds = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var result = await container.InvokeAsync($$"""{"action":"echo","message":"call {{i}}"}""");
            Assert.Null(result.FunctionError);
        }
        // A REPORT is printed once the runtime and the extension have called next again.
        var logs = await container.WaitForLogAsync(l => ReportRequestId().Count(l) >= 3, TimeSpan.FromSeconds(15));
        requestIds.AddRange(ReportRequestId().Matches(logs).Select(m => m.Groups[1].Value));
        var stopRequested = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await container.StopAsync();
        var stopped = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var lines = TestExtensions.ReadLog(_outputDirectory, "recorder");
        var events = lines.Where(l => l.StartsWith("event ", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l[(l.IndexOf('{'))..]).RootElement)
            .ToList();
        var invokes = events.Where(e => e.GetProperty("eventType").GetString() == "INVOKE").ToList();
        Assert.Equal(3, requestIds.Count);
        Assert.Equal(requestIds, invokes.Select(e => e.GetProperty("requestId").GetString()));
        var shutdown = Assert.Single(events, e => e.GetProperty("eventType").GetString() == "SHUTDOWN");
        var deadline = shutdown.GetProperty("deadlineMs").GetInt64();
        // Lambda gives the extensions what is left of 2000 ms after the runtime's SIGTERM, which
        // came between the stop request and the container's end (one clock, ms): contained, not timed.
        Assert.InRange(deadline, stopRequested + 500, stopped + 2000 + 1);
        Assert.Equal("spindown", shutdown.GetProperty("shutdownReason").GetString(), ignoreCase: true);
        Assert.Contains("exiting after shutdown", lines);
    }

    [Fact]
    public async Task An_extension_that_exits_before_shutdown_is_an_Extension_Crash()
    {
        var image = await ImageBuilder.BuildAsync(images.SampleImage10, [TestExtensions.ExitsAfterRegister("quitter")]);
        await using var container = await LambdaContainer.StartAsync(image, extraRunArguments: Mount);

        var result = await container.InvokeAsync("""{"action":"echo","message":"x"}""");

        Assert.Equal("Unhandled", result.FunctionError);
        using var error = JsonDocument.Parse(result.Body);
        Assert.Equal("Extension.Crash", error.RootElement.GetProperty("errorType").GetString());
        Assert.Contains("exiting early", TestExtensions.ReadLog(_outputDirectory, "quitter"));
    }

    [Fact]
    public async Task A_slow_extension_does_not_hold_back_the_response_but_holds_the_next_invoke()
    {
        const int extensionSleepMs = 2000;
        var image = await ImageBuilder.BuildAsync(images.SampleImage10, [TestExtensions.Recorder("sleeper", extensionSleepMs)]);
        await using var container = await LambdaContainer.StartAsync(image, extraRunArguments: Mount);
        await container.InvokeAsync("""{"action":"echo","message":"warm up"}""");
        await Task.Delay(extensionSleepMs + 500);

        var first = await container.InvokeAsync("""{"action":"echo","message":"first"}""");
        var firstAnswered = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var second = await container.InvokeAsync("""{"action":"echo","message":"second"}""");
        var secondAnswered = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        Assert.Contains("first", first.Body);
        Assert.Contains("second", second.Body);
        // The last REPORT comes once the sleeping extension has called next.
        var logs = await container.WaitForLogAsync(l => PostRuntimeDuration().Count(l) >= 3, TimeSpan.FromSeconds(15));
        var reports = ReportLine.ParseAll(logs);
        Assert.Equal(3, reports.Count);
        // (Read once the third REPORT is out: the extension has then logged every INVOKE.)
        // By the order of events on one clock, not by latency limits: the extension got the first
        // INVOKE at a logged time and cannot call next before its sleep is over.
        var invokes = TestExtensions.ReadLog(_outputDirectory, "sleeper")
            .Where(l => l.StartsWith("event ", StringComparison.Ordinal) && l.Contains("\"INVOKE\"", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        Assert.Equal(3, invokes.Count);
        var extensionFreeAfterFirst = invokes[1] + extensionSleepMs;
        // The caller of the first invoke is answered as soon as the runtime responds ...
        Assert.True(firstAnswered < extensionFreeAfterFirst, $"first answered at {firstAnswered}, the extension could call next from {extensionFreeAfterFirst}");
        // ... but the environment stays busy until the extension calls next.
        Assert.True(secondAnswered >= extensionFreeAfterFirst, $"second answered at {secondAnswered}, before the extension could call next ({extensionFreeAfterFirst})");
        // The extension sleeps from INVOKE on, while the runtime works: what the runtime's own
        // duration (inside the caller's wait) does not cover shows as post-runtime extension time.
        Assert.All(reports, r => Assert.True(r.DurationMs + r.PostRuntimeExtensionsDurationMs!.Value >= extensionSleepMs - 50, $"duration + post-runtime {r.DurationMs} + {r.PostRuntimeExtensionsDurationMs} ms"));
        Assert.True(reports[1].DurationMs <= first.Latency.TotalMilliseconds + 1, $"Duration {reports[1].DurationMs} ms beyond the caller's {first.Latency}");
    }

    [GeneratedRegex(@"REPORT RequestId: (\S+)")]
    private static partial Regex ReportRequestId();

    [GeneratedRegex(@"Post-Runtime Extensions Duration: ([0-9.]+) ms")]
    private static partial Regex PostRuntimeDuration();
}
