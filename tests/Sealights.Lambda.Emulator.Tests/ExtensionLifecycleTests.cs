using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Sealights.Lambda.Emulator.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Emulator.Tests;

/// <summary>External extensions: start order, INVOKE and SHUTDOWN events, crashes, post-runtime work.</summary>
public sealed partial class ExtensionLifecycleTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Logs every event with its arrival time; exits on SHUTDOWN.</summary>
    private const string Recorder = """
        ext_register "$NAME" '["INVOKE","SHUTDOWN"]'
        log "registered"
        while true; do
          ext_next
          log "event $EVENT"
          case "$EVENT" in *'"SHUTDOWN"'*) log "exiting after shutdown"; exit 0;; esac
        done
        """;

    private readonly FunctionSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Extensions_start_in_parallel_and_the_runtime_only_once_all_registered()
    {
        foreach (var name in new[] { "ext-a", "ext-b" })
        {
            _sandbox.AddExtension(name, """
                log start
                sleep 0.8
                log registering
                ext_register "$NAME" '["INVOKE"]'
                while true; do ext_next; done
                """);
        }
        var runtime = _sandbox.AddRuntime("""
            log start
            echo_loop
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);

        var response = await emulator.InvokeAsync("x");

        Assert.Equal("x", response.Body);
        long Time(string name, string text) => _sandbox.ReadLog(name).Single(e => e.Text == text).Ms;
        // Parallel: each extension started before the other one finished its 800 ms of setup.
        Assert.True(Time("ext-a", "start") < Time("ext-b", "registering"));
        Assert.True(Time("ext-b", "start") < Time("ext-a", "registering"));
        // The runtime waited for both registrations.
        Assert.True(Time("runtime", "start") >= Math.Max(Time("ext-a", "registering"), Time("ext-b", "registering")));
    }

    [Fact]
    public async Task Extensions_get_an_INVOKE_per_request_and_SHUTDOWN_with_a_2_s_deadline_on_SIGTERM()
    {
        _sandbox.AddExtension("recorder", Recorder);
        // Registered for nothing: blocks in next forever, is not waited for, and is simply killed at the end.
        _sandbox.AddExtension("idle", """
            ext_register "$NAME" '[]'
            while true; do ext_next; done
            """);
        var runtime = _sandbox.AddRuntime("""
            trap 'log sigterm; exit 0' TERM
            echo_loop_trappable
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, new EmulatorStart
        {
            Environment = new Dictionary<string, string> { ["AWS_LAMBDA_FUNCTION_NAME"] = "recorded", ["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "20" },
        }, output);

        var ids = new List<string>();
        var calls = new List<InvokeResponse>();
        for (var i = 0; i < 3; i++)
        {
            var response = await emulator.InvokeAsync($"call {i}", new Dictionary<string, string>
            {
                ["X-Amzn-RequestId"] = $"req-{i}",
                ["X-Amzn-Trace-Id"] = $"Root=1-00000000-00000000000000000000000{i};Parent=0000000000000001;Sampled=1",
            });
            Assert.Equal($"call {i}", response.Body);
            ids.Add(response.RequestId!);
            calls.Add(response);
            await emulator.WaitForReportAsync(response.RequestId!);
        }
        var sigterm = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var exitCode = await emulator.StopAsync();
        var stopped = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        Assert.Equal(0, exitCode);
        var events = _sandbox.ReadLog("recorder").Where(e => e.Text.StartsWith("event ", StringComparison.Ordinal))
            .Select(e => (e.Ms, Json: JsonDocument.Parse(e.Text[6..]).RootElement)).ToList();
        var invokes = events.Where(e => e.Json.GetProperty("eventType").GetString() == "INVOKE").ToList();
        Assert.Equal(ids, invokes.Select(e => e.Json.GetProperty("requestId").GetString()));
        for (var i = 0; i < invokes.Count; i++)
        {
            var invoke = invokes[i].Json;
            Assert.Equal("arn:aws:lambda:us-east-1:012345678912:function:recorded", invoke.GetProperty("invokedFunctionArn").GetString());
            // Dispatch + the 20 s timeout: within the caller's call, moved by 20 s (same clock, ms).
            var called = calls[i].CompletedAt - calls[i].Latency;
            Assert.InRange(invoke.GetProperty("deadlineMs").GetInt64(), called.ToUnixTimeMilliseconds() + 20_000 - 1, calls[i].CompletedAt.ToUnixTimeMilliseconds() + 20_000 + 1);
            Assert.Equal("X-Amzn-Trace-Id", invoke.GetProperty("tracing").GetProperty("type").GetString());
            Assert.Equal($"Root=1-00000000-00000000000000000000000{i};Parent=0000000000000001;Sampled=1", invoke.GetProperty("tracing").GetProperty("value").GetString());
        }
        var shutdown = Assert.Single(events, e => e.Json.GetProperty("eventType").GetString() == "SHUTDOWN").Json;
        Assert.Equal("spindown", shutdown.GetProperty("shutdownReason").GetString());
        // The signal's arrival + 2000: between sending it and the emulator's exit, moved by 2 s.
        Assert.InRange(shutdown.GetProperty("deadlineMs").GetInt64(), sigterm + 2000 - 1, stopped + 2000 + 1);
        Assert.Contains("exiting after shutdown", _sandbox.LogTexts("recorder"));
        Assert.Contains("sigterm", _sandbox.LogTexts("runtime"));
        await emulator.WaitForStderrAsync(l => l.Contains("shutdown (spindown): runtime exited on SIGTERM (exit status 0); " +
            "extensions exited by themselves: [recorder]; killed: [idle (no SHUTDOWN subscription)]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_extension_that_exits_during_an_invoke_is_Extension_Crash_and_the_next_invoke_reinitializes()
    {
        _sandbox.AddExtension("quitter", """
            ext_register "$NAME" '["INVOKE","SHUTDOWN"]'
            ext_next
            if [ ! -f "$OUT/quit-once" ]; then touch "$OUT/quit-once"; log "exiting early"; exit 0; fi
            while true; do ext_next; case "$EVENT" in *SHUTDOWN*) exit 0;; esac; done
            """);
        _sandbox.AddExtension("recorder", Recorder);
        var runtime = _sandbox.AddRuntime("""
            log "init"
            while true; do rt_next; sleep 0.5; rt_respond "$BODY"; done
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);

        var crashed = await emulator.InvokeAsync("x", new Dictionary<string, string> { ["X-Amzn-RequestId"] = "crash-1" });
        var next = await emulator.InvokeAsync("y");

        Assert.Equal("Unhandled", crashed.FunctionError);
        Assert.Equal("Extension.Crash", crashed.ErrorType);
        Assert.Equal("RequestId: crash-1 Error: extension quitter exited with status 0", crashed.ErrorMessage);
        Assert.Contains("exiting early", _sandbox.LogTexts("quitter"));
        Assert.Equal("y", next.Body);
        Assert.Null(next.FunctionError);
        Assert.Equal(2, _sandbox.LogTexts("runtime").Count(t => t == "init"));
        // The surviving extension was shut down with reason "failure" before the re-init.
        var shutdown = Assert.Single(_sandbox.LogTexts("recorder"), t => t.Contains("\"SHUTDOWN\"", StringComparison.Ordinal));
        Assert.Equal("failure", JsonDocument.Parse(shutdown[6..]).RootElement.GetProperty("shutdownReason").GetString());
        Assert.Equal(2, _sandbox.LogTexts("recorder").Count(t => t == "registered"));
    }

    [Fact]
    public async Task An_extension_init_error_fails_init_and_an_exit_error_resets_the_environment()
    {
        _sandbox.AddExtension("picky", """
            ext_register "$NAME" '["INVOKE","SHUTDOWN"]'
            [ -f "$OUT/init-failed" ] && log registered
            if [ ! -f "$OUT/init-failed" ]; then
              touch "$OUT/init-failed"
              call POST "$EXT/init/error" -H "Lambda-Extension-Identifier: $EID" -H 'Lambda-Extension-Function-Error-Type: Extension.ConfigInvalid' > "$OUT/init-error.txt"
              exit 1
            fi
            ext_next
            if [ ! -f "$OUT/exit-failed" ]; then
              touch "$OUT/exit-failed"
              call POST "$EXT/exit/error" -H "Lambda-Extension-Identifier: $EID" -H 'Lambda-Extension-Function-Error-Type: Extension.Broken' > "$OUT/exit-error.txt"
              exit 1
            fi
            while true; do ext_next; case "$EVENT" in *SHUTDOWN*) exit 0;; esac; done
            """);
        var runtime = _sandbox.AddRuntime("""
            log init
            while true; do rt_next; sleep 0.5; rt_respond "$BODY"; done
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);

        var initFailed = await emulator.InvokeAsync("1");
        var exitFailed = await emulator.InvokeAsync("2");
        var healthy = await emulator.InvokeAsync("3");

        Assert.Equal("Extension.ConfigInvalid", initFailed.ErrorType);
        Assert.StartsWith("202 ", _sandbox.ReadOutput("init-error.txt"));
        Assert.Equal("Extension.Broken", exitFailed.ErrorType);
        Assert.StartsWith("202 ", _sandbox.ReadOutput("exit-error.txt"));
        Assert.Equal("3", healthy.Body);
        // Three environments: the exit error cost the second one (the first may or may not have
        // started its runtime before the init error arrived).
        Assert.Equal(2, _sandbox.LogTexts("picky").Count(t => t == "registered"));
        Assert.InRange(_sandbox.LogTexts("runtime").Count, 2, 3);
    }

    [Fact]
    public async Task An_extension_that_dies_before_registering_fails_init_with_Extension_Crash()
    {
        _sandbox.AddExtension("broken", "exit 7");
        var runtime = _sandbox.AddRuntime("""
            log started
            echo_loop
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);

        var first = await emulator.InvokeAsync("x");
        var second = await emulator.InvokeAsync("y");

        Assert.Equal("Extension.Crash", first.ErrorType);
        Assert.EndsWith("Error: extension broken exited with status 7", first.ErrorMessage);
        Assert.Equal("Extension.Crash", second.ErrorType);
        Assert.Empty(_sandbox.LogTexts("runtime")); // never started: extensions register first
        Assert.False(emulator.HasExited);
    }

    [Fact]
    public async Task A_slow_extension_does_not_delay_the_response_but_delays_the_next_invoke()
    {
        _sandbox.AddExtension("sleeper", """
            ext_register "$NAME" '["INVOKE"]'
            while true; do ext_next; sleep 2; log slept; done
            """);
        var runtime = _sandbox.AddRuntime("""
            while true; do rt_next; log "got $BODY"; rt_respond "$BODY"; done
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);
        await emulator.InvokeAsync("warm up");
        await emulator.WaitForReportAsync((await emulator.InvokeAsync("warm up 2")).RequestId!);

        var first = await emulator.InvokeAsync("first");
        var second = await emulator.InvokeAsync("second");

        Assert.Equal("first", first.Body);
        Assert.Equal("second", second.Body);
        // By the order of what happened (one clock, ms): the caller had its answer before the
        // extension was done with that INVOKE, and the runtime got the next one only after.
        var sleptAfterFirst = _sandbox.ReadLog("sleeper").Where(e => e.Text == "slept").ElementAt(2).Ms;
        Assert.True(first.CompletedAt.ToUnixTimeMilliseconds() < sleptAfterFirst, $"the caller waited for the extension: answered at {first.CompletedAt.ToUnixTimeMilliseconds()}, extension done at {sleptAfterFirst}");
        var secondDispatched = _sandbox.ReadLog("runtime").Single(e => e.Text == "got second").Ms;
        Assert.True(secondDispatched >= sleptAfterFirst, $"the next invoke did not wait for the extension: dispatched at {secondDispatched}, extension done at {sleptAfterFirst}");
        var report = await emulator.WaitForReportAsync(first.RequestId!);
        var postRuntime = double.Parse(PostRuntime().Match(report).Groups[1].Value, CultureInfo.InvariantCulture);
        var duration = double.Parse(Duration().Match(report).Groups[1].Value, CultureInfo.InvariantCulture);
        // The extension's 2 s started with the INVOKE; the runtime's part is Duration (inside the
        // caller's wait), the rest is post-runtime.
        Assert.True(duration <= first.Latency.TotalMilliseconds + 1, $"Duration counts only the runtime: {report}, caller waited {first.Latency}");
        Assert.True(postRuntime + duration >= 1990, $"the extension's 2 s are not in the report: {report}");
    }

    [Fact]
    public async Task Extensions_do_not_see_the_runtime_only_variables()
    {
        _sandbox.AddExtension("env-dump", """
            env > "$OUT/extension-env.txt"
            ext_register "$NAME" '["INVOKE"]'
            while true; do ext_next; done
            """);
        var runtime = _sandbox.AddRuntime("""
            env > "$OUT/runtime-env.txt"
            echo_loop
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, new EmulatorStart
        {
            BootstrapArguments = ["handler"],
            Environment = new Dictionary<string, string>
            {
                ["LAMBDA_TASK_ROOT"] = "/var/task",
                ["LAMBDA_RUNTIME_DIR"] = "/var/runtime",
                ["AWS_EXECUTION_ENV"] = "AWS_Lambda_dotnet10",
                ["MY_SETTING"] = "shared",
            },
        }, output);

        await emulator.InvokeAsync("x");

        var extension = ReadEnvNames("extension-env.txt");
        var runtimeEnv = ReadEnvNames("runtime-env.txt");
        string[] hidden = ["_HANDLER", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "AWS_EXECUTION_ENV", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME"];
        Assert.All(hidden, name => Assert.Contains(name, runtimeEnv));
        Assert.All(hidden, name => Assert.DoesNotContain(name, extension));
        Assert.All(["AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "MY_SETTING"], name => Assert.Contains(name, extension));
    }

    private HashSet<string> ReadEnvNames(string file) =>
        File.ReadAllLines(_sandbox.OutputPath(file)).Where(l => l.Contains('=')).Select(l => l[..l.IndexOf('=')]).ToHashSet();

    [GeneratedRegex(@"\tPost-Runtime Extensions Duration: (\d+\.\d\d) ms")]
    private static partial Regex PostRuntime();

    [GeneratedRegex(@"\tDuration: (\d+\.\d\d) ms")]
    private static partial Regex Duration();
}
