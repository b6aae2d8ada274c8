using Sealights.Lambda.Agent.Lifecycle;

namespace Sealights.Lambda.Agent.Tests.Lifecycle;

public sealed class ExtensionEventTests
{
    [Fact]
    public void An_INVOKE_event_is_read()
    {
        var e = ExtensionEvent.Parse("""{"eventType":"INVOKE","deadlineMs":1700000000123,"requestId":"r-1","invokedFunctionArn":"arn","tracing":{"type":"X-Amzn-Trace-Id","value":"v"}}""");

        Assert.Equal(ExtensionEventType.Invoke, e.Type);
        Assert.Equal("r-1", e.RequestId);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1700000000123), e.Deadline);
    }

    [Theory]
    [InlineData("SHUTDOWN", "spindown")]
    [InlineData("shutdown", "SandboxTerminated")]
    [InlineData("Shutdown", "TIMEOUT")]
    public void SHUTDOWN_is_recognised_in_any_casing(string eventType, string reason)
    {
        var e = ExtensionEvent.Parse($$"""{"eventType":"{{eventType}}","deadlineMs":5,"shutdownReason":"{{reason}}"}""");

        Assert.Equal(ExtensionEventType.Shutdown, e.Type);
        Assert.Equal(reason, e.ShutdownReason);
    }

    [Theory]
    [InlineData("", "not valid JSON")]
    [InlineData("[1,2]", "not a JSON object")]
    [InlineData("""{"eventType":"RESTORE"}""", "unknown eventType 'RESTORE'")]
    [InlineData("""{"eventType":42}""", "unknown eventType ''")]
    public void A_malformed_event_is_unknown_not_an_exception(string body, string problem)
    {
        var e = ExtensionEvent.Parse(body);

        Assert.Equal(ExtensionEventType.Unknown, e.Type);
        Assert.Equal(problem, e.Problem);
    }
}
