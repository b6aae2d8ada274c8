using System.Net;
using System.Net.Sockets;
using System.Text;
using Sealights.Coverage.Tokens;
using Sealights.Lambda.Agent.Delivery;
using Sealights.Lambda.Agent.Lifecycle;

namespace Sealights.Lambda.Agent.Tests.Fuzzing;

/// <summary>
/// What the fuzzer found (FuzzTests, seed 22), each kept as a regression test with the input in
/// hex: JSON strings that are not UTF-8 made <c>JsonElement.GetString</c> throw
/// InvalidOperationException out of readers documented never to throw, and two numbers out of
/// range made ArgumentOutOfRange/Overflow exceptions.
/// </summary>
public sealed class FuzzFindingTests
{
    [Fact]
    public void A_token_whose_claims_are_not_UTF8_is_refused_not_thrown()
    {
        // {"subject":"customer@test.example","x-sl-role":"agent","x-sl-server":"https:FF FF FF 7F//x/api"}
        var claims = Convert.FromHexString("7b227375626a656374223a22637573746f6d657240746573742e6578616d706c65222c22782d736c2d726f6c65223a226167656e74222c22782d736c2d736572766572223a2268747470733affffff7f2f2f782f617069227d");
        var raw = $"eyJhbGciOiJIUzI1NiJ9.{Convert.ToBase64String(claims).TrimEnd('=').Replace('+', '-').Replace('/', '_')}.c2lnbmF0dXJl";

        Assert.False(SealightsToken.TryParse(raw, out _, out var problem));
        Assert.Equal("the token's payload is not UTF-8 text", problem);
    }

    [Fact]
    public void A_build_session_answer_that_is_not_UTF8_is_no_answer()
    {
        // {"buildSessionId":"bsid-1","appName":"calc-app","branchName":"m FF FF n"}
        var body = Convert.FromHexString("7B226275696C6453657373696F6E4964223A22627369642D31222C226170704E616D65223A2263616C632D617070222C226272616E63684E616D65223A226DFFFF6E227D");

        Assert.Null(BuildSessionInfo.Parse(body));
    }

    [Fact]
    public void An_event_deadline_past_any_date_is_no_deadline()
    {
        // {"eventType":"SHUT253402300800000OWN","shutdownReason":"spin own","deadlineMs":1796554294967296}: the agent stopped.
        var body = Encoding.ASCII.GetString(Convert.FromHexString("7B226576656E7454797065223A22534855543235333430323330303830303030304F574E222C2273687574646F776E526561736F6E223A227370696E206F776E222C22646561646C696E654D73223A313739363535343239343936373239367D"));

        var parsed = ExtensionEvent.Parse(body);

        Assert.Equal(ExtensionEventType.Unknown, parsed.Type);
        Assert.Null(parsed.Deadline);
        Assert.Equal(new DateTimeOffset(2026, 12, 6, 10, 15, 30, 123, TimeSpan.Zero), ExtensionEvent.Parse("""{"eventType":"INVOKE","deadlineMs":1796552130123}""").Deadline);
    }

    [Fact]
    public void An_event_deadline_that_is_a_string_is_no_deadline()
    {
        // {"eventType":"INVOKE","deadlineMs":"main",…} (a longer run, seed 7): TryGetInt64 threw InvalidOperationException.
        var body = Encoding.ASCII.GetString(Convert.FromHexString("7B226576656E7454797065223A22494E564F4B45222C22646561646C696E654D73223A226D61696E222C226275696C644E616D65223A2231222C226164646974696F6E616C506172616D73223A7B7D7D"));

        var parsed = ExtensionEvent.Parse(body);

        Assert.Equal(ExtensionEventType.Invoke, parsed.Type);
        Assert.Null(parsed.Deadline);
    }

    [Theory]
    [InlineData("""{"sendEvents":false,"executionQueryIntervalSecs":9223372036854775808}""")]
    [InlineData("""{"sendEvents":false,"executionQueryIntervalSecs":"Infinity"}""")]
    public void A_remote_query_interval_past_what_a_TimeSpan_holds_is_ignored(string body)
    {
        var configuration = RemoteConfiguration.Parse(Encoding.UTF8.GetBytes(body));

        Assert.NotNull(configuration);
        Assert.False(configuration.SendEvents);
        Assert.Null(configuration.ExecutionQueryInterval);
    }

    [Fact]
    public void A_sealights_json_that_is_not_UTF8_is_one_line_and_the_environment_only()
    {
        var taskRoot = Directory.CreateTempSubdirectory("sl-finding-").FullName;
        try
        {
            // {"SL_BUILD_SESSION_ID":"bsid-B5"}
            File.WriteAllBytes(Path.Combine(taskRoot, "sealights.json"), Convert.FromHexString("7b22534c5f4255494c445f53455353494f4e5f4944223a22627369642db5227d"));
            var token = SealightsToken.TryParse(TokenTarget.Token("""{"subject":"c@x","x-sl-role":"agent","x-sl-server":"http://127.0.0.1:9/api"}"""), out var parsed, out _) ? parsed : null;
            var lines = new List<string>();

            var options = DeliveryOptions.TryCreate(_ => null, taskRoot, token!, lines.Add);

            Assert.Null(options);
            Assert.Contains(lines, line => line.EndsWith("sealights.json is not UTF-8 text; using the environment only", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(taskRoot, recursive: true);
        }
    }

    [Fact]
    public async Task A_telemetry_batch_that_is_not_UTF8_is_one_ordinary_line_and_the_listener_still_hears()
    {
        // [{"type":"platform.runtimeDone","record":{"requestId":"3 C0 FF"}}]
        var batch = Convert.FromHexString("5b7b2274797065223a22706c6174666f726d2e72756e74696d65446f6e65222c227265636f7264223a7b22726571756573744964223a2233c0ff227d7d5d");
        var warnings = new List<string>();
        using var listener = TelemetryListener.Start(w => { lock (warnings) { warnings.Add(w); } }, "/nonexistent");
        var done = listener.RuntimeDone("r");

        await PostAsync(listener, batch);
        await PostAsync(listener, """[{"type":"platform.runtimeDone","record":{"requestId":"r"}}]"""u8.ToArray());

        await done.WaitAsync(TimeSpan.FromSeconds(10));
        lock (warnings)
        {
            Assert.Equal("a telemetry batch is not UTF-8 text; ignored; further telemetry problems are not logged", Assert.Single(warnings));
        }
    }

    private static async Task PostAsync(TelemetryListener listener, byte[] body)
    {
        using var peer = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await peer.ConnectAsync(IPAddress.Loopback, listener.Destination.Port);
        await peer.SendAsync(Encoding.ASCII.GetBytes($"POST / HTTP/1.1\r\nContent-Length: {body.Length}\r\n\r\n"));
        await peer.SendAsync(body);
        peer.Shutdown(SocketShutdown.Send);
        var answer = new byte[256];
        var read = await peer.ReceiveAsync(answer);
        Assert.StartsWith("HTTP/1.1 200 OK", Encoding.ASCII.GetString(answer, 0, read));
    }
}
