using System.Text;
using Sealights.Lambda.Agent.Configuration;

namespace Sealights.Lambda.Agent.Tests.Configuration;

public sealed class AgentOptionsTests
{
    private static string Jwt(string payloadJson) =>
        $"{B64("{\"alg\":\"HS256\"}")}.{B64(payloadJson)}.c2lnbmF0dXJl";

    private static string B64(string text) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static AgentOptions Read(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value);
        return AgentOptions.FromEnvironment(name => map.GetValueOrDefault(name));
    }

    [Fact]
    public void A_token_with_a_server_claim_enables_the_agent()
    {
        var options = Read(("SL_TOKEN", Jwt("""{"x-sl-server":"https://acme.sealights.co/api","subject":"acme@sealights","x-sl-role":"agent"}""")));

        Assert.True(options.Enabled);
        Assert.Equal(new Uri("https://acme.sealights.co/api"), options.Token!.Server);
        Assert.Equal("acme@sealights", options.Token.Subject);
        Assert.Null(options.DisabledReason);
    }

    [Fact]
    public void No_token_leaves_the_agent_inert_with_an_actionable_reason()
    {
        var options = Read();

        Assert.False(options.Enabled);
        Assert.Equal("no token: set SL_TOKEN or SL_TOKEN_FILE on the function", options.DisabledReason);
    }

    [Fact]
    public void The_debug_hits_file_without_a_token_is_local_mode()
    {
        var options = Read(("SL_DEBUG_HITS_FILE", "/tmp/hits.jsonl"));

        Assert.True(options.Enabled);
        Assert.True(options.LocalOnly);
        Assert.Null(options.Token);
        Assert.Null(options.DisabledReason);
        Assert.Equal("/tmp/hits.jsonl", options.HitsDumpFile);
    }

    [Fact]
    public void Local_mode_is_still_off_with_SL_ENABLED_false_and_with_a_token_it_is_not_local()
    {
        var off = Read(("SL_DEBUG_HITS_FILE", "/tmp/hits.jsonl"), ("SL_ENABLED", "false"));
        var withToken = Read(("SL_DEBUG_HITS_FILE", "/tmp/hits.jsonl"), ("SL_TOKEN", Jwt("""{"x-sl-server":"https://x/api","subject":"x@y","x-sl-role":"agent"}""")));
        var badToken = Read(("SL_DEBUG_HITS_FILE", "/tmp/hits.jsonl"), ("SL_TOKEN", "abc"));

        Assert.False(off.Enabled);
        Assert.Equal("SL_ENABLED=false", off.DisabledReason);
        Assert.True(withToken.Enabled);
        Assert.False(withToken.LocalOnly);
        // A token that is set but unusable is a mistake to report, not a reason to go local.
        Assert.False(badToken.Enabled);
        Assert.StartsWith("SL_TOKEN is not usable", badToken.DisabledReason);
    }

    [Theory]
    [InlineData("abc", "the token is not a JWT (expected 3 dot-separated parts, found 1)")]
    [InlineData("a.b", "the token is not a JWT (expected 3 dot-separated parts, found 2)")]
    [InlineData("a.!!!.c", "the token's payload is not base64url")]
    [InlineData("a.bm90IGpzb24.c", "the token's payload is not valid JSON")]
    public void A_malformed_token_is_refused_without_quoting_it(string token, string problem)
    {
        var options = Read(("SL_TOKEN", token));

        Assert.False(options.Enabled);
        Assert.Equal($"SL_TOKEN is not usable: {problem}", options.DisabledReason);
    }

    // slnodejs 6.1.1133 refuses these tokens before any request (Conformance/README.md, "The token").
    [Theory]
    [InlineData("""{"x-sl-server":"https://x/api","x-sl-role":"agent"}""", "the token has no 'subject' claim (Sealights agent tokens name the customer there)")]
    [InlineData("""{"subject":"x@y","x-sl-role":"agent"}""", "the token has no 'x-sl-server' claim")]
    [InlineData("""{"x-sl-server":"ftp://x/api","subject":"x@y","x-sl-role":"agent"}""", "the token's 'x-sl-server' claim is not an http(s) URL")]
    [InlineData("""{"x-sl-server":"https://x/api","subject":"x@y"}""", "the token has no 'x-sl-role' claim (an agent token has 'agent')")]
    [InlineData("""{"x-sl-server":"https://x/api","subject":"x@y","x-sl-role":"user"}""", "the token's 'x-sl-role' claim is not 'agent': it is not an agent token")]
    [InlineData("""{"x-sl-server":"https://x/api","subject":"x@y","x-sl-role":"Agent"}""", "the token's 'x-sl-role' claim is not 'agent': it is not an agent token")]
    public void A_token_without_the_claims_of_an_agent_token_leaves_the_agent_inert_naming_the_claim_not_the_token(string claims, string problem)
    {
        var raw = Jwt(claims);

        var options = Read(("SL_TOKEN", raw));

        Assert.False(options.Enabled);
        Assert.Null(options.Token);
        Assert.Equal($"SL_TOKEN is not usable: {problem}", options.DisabledReason);
        Assert.DoesNotContain(raw.Split('.')[1], options.DisabledReason);
    }

    [Fact]
    public void The_customer_id_is_the_subject_up_to_its_first_at_sign()
    {
        var options = Read(("SL_TOKEN", Jwt("""{"x-sl-server":"https://x/api","subject":"acme@sealights@x","x-sl-role":"agent"}""")));

        Assert.Equal("acme", options.Token!.CustomerId);
    }

    [Fact]
    public void SL_ENABLED_false_wins_over_a_valid_token()
    {
        var options = Read(("SL_TOKEN", Jwt("""{"x-sl-server":"https://x/api","subject":"x@y","x-sl-role":"agent"}""")), ("SL_ENABLED", "false"));

        Assert.False(options.Enabled);
        Assert.Equal("SL_ENABLED=false", options.DisabledReason);
    }

    [Fact]
    public void The_token_can_come_from_a_file_and_is_never_formatted()
    {
        var file = Path.GetTempFileName();
        var raw = Jwt("""{"x-sl-server":"https://x/api","subject":"x@y","x-sl-role":"agent"}""");
        File.WriteAllText(file, raw + "\n");
        try
        {
            var options = Read(("SL_TOKEN_FILE", file));

            Assert.True(options.Enabled);
            Assert.DoesNotContain(raw, options.ToString());
            Assert.DoesNotContain(raw, options.Token!.ToString());
            Assert.Equal("Bearer " + raw, options.Token.BearerValue);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void An_unreadable_token_file_is_named_in_the_reason()
    {
        var options = Read(("SL_TOKEN_FILE", "/nonexistent/sl-token"));

        Assert.False(options.Enabled);
        Assert.StartsWith("SL_TOKEN_FILE /nonexistent/sl-token cannot be read", options.DisabledReason);
    }
}
