using System.Text.Json;
using Sealights.Lambda.Emulator.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Emulator.Tests;

/// <summary>The Extensions API's rules: names, events, identifiers, internal extensions.</summary>
public sealed class ExtensionRegistrationTests(ITestOutputHelper output) : IDisposable
{
    private readonly FunctionSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Registration_follows_Lambdas_rules()
    {
        _sandbox.AddExtension("probe", """
            ext_register not-my-file-name '["INVOKE","SHUTDOWN"]'; echo "$REG_STATUS $REG_BODY" > "$OUT/wrong-name.txt"
            ext_register "$NAME" '["INVOKE","BOGUS"]'; echo "$REG_STATUS $REG_BODY" > "$OUT/bad-event.txt"
            ext_register "$NAME" '["INVOKE","SHUTDOWN"]' -H 'Lambda-Extension-Accept-Feature: accountId'
            echo "$REG_STATUS $REG_BODY" > "$OUT/registered.txt"
            ID="$EID"
            ext_register "$NAME" '["INVOKE"]'; echo "$REG_STATUS $REG_BODY" > "$OUT/twice.txt"
            call GET "$EXT/event/next" > "$OUT/next-without-id.txt"
            call GET "$EXT/event/next" -H 'Lambda-Extension-Identifier: 00000000-0000-0000-0000-000000000000' > "$OUT/next-unknown-id.txt"
            call PUT "$TEL" -H "Lambda-Extension-Identifier: $ID" -d '{"schemaVersion":"1999-01-01","types":["platform"],"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:1/"}}' > "$OUT/bad-schema.txt"
            EID="$ID"
            ext_next
            ext_register late '["INVOKE"]'; echo "$REG_STATUS $REG_BODY" > "$OUT/after-init.txt"
            EID="$ID"
            while true; do ext_next; case "$EVENT" in *SHUTDOWN*) exit 0;; esac; done
            """);
        // The runtime hosts an internal extension: any name that is no extension file's.
        var runtime = _sandbox.AddRuntime("""
            ext_register in-process '["INVOKE"]'
            echo "$REG_STATUS $REG_BODY" > "$OUT/internal.txt"
            ( while true; do ext_next; log "internal $EVENT"; done ) &
            echo_loop
            """);
        await using var emulator = await EmulatorProcess.StartAsync(_sandbox, runtime, new EmulatorStart
        {
            BootstrapArguments = ["Fn::Handler"],
            Environment = new Dictionary<string, string> { ["AWS_LAMBDA_FUNCTION_NAME"] = "registrar" },
        }, output);

        var response = await emulator.InvokeAsync("x", new Dictionary<string, string> { ["X-Amzn-RequestId"] = "reg-1" });
        await emulator.WaitForReportAsync("reg-1");

        Assert.Equal("x", response.Body);
        AssertRefused("wrong-name.txt", 403, "ShutdownEventNotSupportedForInternalExtension");
        AssertRefused("bad-event.txt", 400, "Extension.InvalidEventType");
        AssertRefused("twice.txt", 403, "Extension.AlreadyRegistered");
        AssertRefused("next-without-id.txt", 403, "Extension.MissingExtensionIdentifier");
        AssertRefused("next-unknown-id.txt", 403, "Extension.InvalidExtensionIdentifier");
        AssertRefused("bad-schema.txt", 400, "ValidationError");
        AssertRefused("after-init.txt", 403, "Extension.InvalidStateTransition");

        var (status, body) = Read("registered.txt");
        Assert.Equal(200, status);
        Assert.Equal("registrar", body.GetProperty("functionName").GetString());
        Assert.Equal("$LATEST", body.GetProperty("functionVersion").GetString());
        Assert.Equal("Fn::Handler", body.GetProperty("handler").GetString());
        Assert.Equal("012345678912", body.GetProperty("accountId").GetString());

        // Internal: registered without accountId (not asked for) and it gets INVOKE like the others.
        var (internalStatus, internalBody) = Read("internal.txt");
        Assert.Equal(200, internalStatus);
        Assert.False(internalBody.TryGetProperty("accountId", out _));
        var internalEvent = Assert.Single(_sandbox.LogTexts("runtime"), t => t.StartsWith("internal ", StringComparison.Ordinal));
        Assert.Equal("reg-1", JsonDocument.Parse(internalEvent["internal ".Length..]).RootElement.GetProperty("requestId").GetString());
    }

    private void AssertRefused(string file, int status, string errorType)
    {
        var (actualStatus, body) = Read(file);
        Assert.Equal(status, actualStatus);
        Assert.Equal(errorType, body.GetProperty("errorType").GetString());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("errorMessage").GetString()));
    }

    private (int Status, JsonElement Body) Read(string file)
    {
        var text = _sandbox.ReadOutput(file).Trim();
        var space = text.IndexOf(' ');
        return (int.Parse(text[..space]), JsonDocument.Parse(text[(space + 1)..]).RootElement);
    }
}
