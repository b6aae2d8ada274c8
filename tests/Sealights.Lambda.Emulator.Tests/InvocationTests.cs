using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Sealights.Lambda.Emulator.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Emulator.Tests;

/// <summary>The invoke endpoint and the Runtime API between them: payloads, headers, errors, ordering.</summary>
public sealed partial class InvocationTests(ITestOutputHelper output) : IDisposable
{
    private readonly FunctionSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Response_body_round_trips_and_next_carries_every_header()
    {
        var runtime = _sandbox.AddRuntime("""
            env > "$OUT/runtime-env.txt"
            printf '%s\n' "$@" > "$OUT/runtime-args.txt"
            n=0
            while true; do
              rt_next; n=$((n+1))
              cp "$HDR" "$OUT/headers-$n.txt"
              rt_respond "$BODY"
            done
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, new EmulatorStart
        {
            BootstrapArguments = ["My.Assembly::My.Type::Handle"],
            Environment = new Dictionary<string, string>
            {
                ["AWS_LAMBDA_FUNCTION_NAME"] = "my-fn",
                ["AWS_REGION"] = "eu-west-1",
                ["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "30",
            },
        }, output);
        const string payload = """{"text":"héllo \"world\"","n":[1,2,3]}""";
        const string trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
        var clientContext = """{"custom":{"k":"v"}}""";
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var first = await emulator.InvokeAsync(payload, new Dictionary<string, string>
        {
            ["X-Amzn-RequestId"] = "req-0001",
            ["X-Amzn-Trace-Id"] = trace,
            ["X-Amz-Client-Context"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(clientContext)),
            ["X-Amz-Cognito-Identity"] = """{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"}""",
        });
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var second = await emulator.InvokeAsync("{}");

        Assert.Equal(200, first.StatusCode);
        Assert.Null(first.FunctionError);
        Assert.Equal(payload, first.Body);
        Assert.Equal("req-0001", first.RequestId);

        var headers = ReadHeaders("headers-1.txt");
        Assert.Equal("req-0001", headers["lambda-runtime-aws-request-id"]);
        Assert.Equal("arn:aws:lambda:eu-west-1:012345678912:function:my-fn", headers["lambda-runtime-invoked-function-arn"]);
        Assert.Equal(trace, headers["lambda-runtime-trace-id"]);
        Assert.Equal(clientContext, headers["lambda-runtime-client-context"]);
        Assert.Equal("""{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"}""", headers["lambda-runtime-cognito-identity"]);
        var deadline = long.Parse(headers["lambda-runtime-deadline-ms"], CultureInfo.InvariantCulture);
        Assert.InRange(deadline, before + 30_000, after + 30_000); // dispatch + AWS_LAMBDA_FUNCTION_TIMEOUT

        // Without the optional headers: a fresh request id and an X-Ray style trace id.
        var generated = ReadHeaders("headers-2.txt");
        Assert.Equal(second.RequestId, generated["lambda-runtime-aws-request-id"]);
        Assert.True(Guid.TryParse(second.RequestId, out _), second.RequestId);
        Assert.Matches(TraceId(), generated["lambda-runtime-trace-id"]);
        Assert.False(generated.ContainsKey("lambda-runtime-client-context"));
        Assert.False(generated.ContainsKey("lambda-runtime-cognito-identity"));

        var env = ReadEnv("runtime-env.txt");
        Assert.Equal($"127.0.0.1:{emulator.RuntimeApiPort}", env["AWS_LAMBDA_RUNTIME_API"]);
        Assert.Equal("My.Assembly::My.Type::Handle", env["_HANDLER"]);
        Assert.Equal("my-fn", env["AWS_LAMBDA_FUNCTION_NAME"]);
        Assert.Equal("$LATEST", env["AWS_LAMBDA_FUNCTION_VERSION"]);
        Assert.Equal("3008", env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]);
        Assert.Equal("eu-west-1", env["AWS_REGION"]);
        Assert.Equal("eu-west-1", env["AWS_DEFAULT_REGION"]);
        Assert.Equal("/aws/lambda/my-fn", env["AWS_LAMBDA_LOG_GROUP_NAME"]);
        Assert.Matches(@"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$", env["AWS_LAMBDA_LOG_STREAM_NAME"]);
        Assert.Equal(["My.Assembly::My.Type::Handle"], File.ReadAllLines(_sandbox.OutputPath("runtime-args.txt")));
    }

    [Fact]
    public async Task A_function_error_gives_X_Amz_Function_Error_and_the_posted_body()
    {
        const string error = """{"errorMessage":"boom","errorType":"InvalidOperationException","stackTrace":["at A.B()"]}""";
        var runtime = _sandbox.AddRuntime($$"""
            log init
            while true; do
              rt_next
              if [ "$BODY" = fail ]; then rt_error InvalidOperationException '{{error}}'; else rt_respond "ok:$BODY"; fi
            done
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);

        var failed = await emulator.InvokeAsync("fail");
        var next = await emulator.InvokeAsync("again");

        Assert.Equal(200, failed.StatusCode);
        Assert.Equal("Unhandled", failed.FunctionError);
        Assert.Equal(error, failed.Body);
        // A function error is not a crash: the same environment serves the next invoke.
        Assert.Equal("ok:again", next.Body);
        Assert.Null(next.FunctionError);
        Assert.Single(_sandbox.LogTexts("runtime"), "init");
    }

    [Fact]
    public async Task Invokes_are_served_one_at_a_time()
    {
        var runtime = _sandbox.AddRuntime("""
            while true; do
              rt_next
              log "begin $ID"
              sleep 0.3
              log "end $ID"
              rt_respond "$BODY"
            done
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);

        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => emulator.InvokeAsync($"call-{i}")));

        Assert.Equal(["call-0", "call-1", "call-2"], results.Select(r => r.Body).Order());
        var log = _sandbox.LogTexts("runtime");
        Assert.Equal(6, log.Count);
        for (var i = 0; i < log.Count; i += 2)
        {
            // Strictly begin/end pairs of the same request: never two in flight.
            Assert.StartsWith("begin ", log[i]);
            Assert.Equal("end " + log[i][6..], log[i + 1]);
        }
    }

    [Fact]
    public async Task A_wrong_or_already_answered_request_id_is_refused_with_InvalidRequestID()
    {
        var runtime = _sandbox.AddRuntime("""
            rt_next
            call POST "$RT/invocation/not-the-id/response" -d x > "$OUT/wrong-id.txt"
            rt_respond "first"
            call POST "$RT/invocation/$ID/response" -d again > "$OUT/twice.txt"
            call POST "$RT/invocation/$ID/error" -d '{}' > "$OUT/error-after-response.txt"
            echo_loop
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);

        var response = await emulator.InvokeAsync("x");
        await emulator.InvokeAsync("sync"); // the runtime made its calls before it took this one

        Assert.Equal("first", response.Body);
        foreach (var file in new[] { "wrong-id.txt", "twice.txt", "error-after-response.txt" })
        {
            var text = _sandbox.ReadOutput(file);
            Assert.StartsWith("400 ", text);
            Assert.Contains("\"errorType\":\"InvalidRequestID\"", text);
        }
    }

    [Fact]
    public async Task An_oversized_response_is_413_for_the_runtime_and_Function_ResponseSizeTooLarge_for_the_caller()
    {
        var runtime = _sandbox.AddRuntime("""
            head -c 6291457 /dev/zero | tr '\0' a > "$OUT/big.txt"
            rt_next
            call POST "$RT/invocation/$ID/response" --data-binary "@$OUT/big.txt" > "$OUT/big-response.txt"
            echo_loop
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);

        var tooLarge = await emulator.InvokeAsync("x");
        var next = await emulator.InvokeAsync("small");

        Assert.Equal("Unhandled", tooLarge.FunctionError);
        Assert.Equal("Function.ResponseSizeTooLarge", tooLarge.ErrorType);
        var runtimeSaw = _sandbox.ReadOutput("big-response.txt");
        Assert.StartsWith("413 ", runtimeSaw);
        Assert.Contains("\"errorType\":\"RequestEntityTooLarge\"", runtimeSaw);
        Assert.Equal("small", next.Body);
    }

    [Fact]
    public async Task The_invoke_endpoint_refuses_a_bad_client_context_and_an_oversized_payload()
    {
        // Echoes through files: a 6 MB payload does not fit in a command-line argument.
        var runtime = _sandbox.AddRuntime("""
            while true; do
              curl -sS -D "$OUT/tmp/h" -o "$OUT/tmp/b" "$RT/invocation/next"
              ID=$(header "$OUT/tmp/h" Lambda-Runtime-Aws-Request-Id)
              curl -sS -o /dev/null -X POST "$RT/invocation/$ID/response" --data-binary "@$OUT/tmp/b"
            done
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, output: output);

        var badContext = await emulator.InvokeAsync("x", new Dictionary<string, string> { ["X-Amz-Client-Context"] = "***not base64***" });
        var tooLarge = await emulator.InvokeAsync(new string('a', 6 * 1024 * 1024 + 1));
        var fine = await emulator.InvokeAsync(new string('a', 6 * 1024 * 1024 - 100));

        Assert.Equal(400, badContext.StatusCode);
        Assert.Equal("InvalidRequestContentException", badContext.ErrorType);
        Assert.Equal(413, tooLarge.StatusCode);
        Assert.Equal("RequestEntityTooLargeException", tooLarge.ErrorType);
        Assert.Equal(200, fine.StatusCode);
        Assert.Equal(6 * 1024 * 1024 - 100, fine.Body.Length);
    }

    private Dictionary<string, string> ReadHeaders(string file) =>
        File.ReadAllLines(_sandbox.OutputPath(file))
            .Select(l => l.TrimEnd('\r'))
            .Where(l => l.Contains(':') && !l.StartsWith("HTTP/", StringComparison.Ordinal))
            .ToDictionary(l => l[..l.IndexOf(':')].ToLowerInvariant(), l => l[(l.IndexOf(':') + 1)..].Trim());

    private Dictionary<string, string> ReadEnv(string file) =>
        File.ReadAllLines(_sandbox.OutputPath(file))
            .Where(l => l.Contains('='))
            .GroupBy(l => l[..l.IndexOf('=')])
            .ToDictionary(g => g.Key, g => g.First()[(g.First().IndexOf('=') + 1)..]);

    [GeneratedRegex(@"^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$")]
    private static partial Regex TraceId();
}
