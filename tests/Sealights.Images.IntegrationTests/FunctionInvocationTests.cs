using System.Text.Json;
using Sealights.Images.IntegrationTests.Infrastructure;
using Sealights.Images.Testing;

namespace Sealights.Images.IntegrationTests;

/// <summary>The sample function in the stand-in image, invoked through the emulator in a container.</summary>
[Collection(StandInCollection.Name)]
public sealed class FunctionInvocationTests(StandInFixture images)
{
    public static TheoryData<string> Runtimes => ["10", "8"];

    private string SampleImage(string runtime) => runtime == "10" ? images.SampleImage10 : images.SampleImage8;

    [Theory]
    [MemberData(nameof(Runtimes))]
    public async Task Sample_function_answers_two_different_inputs(string runtime)
    {
        await using var container = await LambdaContainer.StartAsync(SampleImage(runtime));

        var echo = await container.InvokeAsync("""{"action":"echo","message":"hello from the tests"}""");
        var quote = await container.InvokeAsync("""{"action":"quote","items":[{"sku":"A","qty":2}],"coupon":"TEN"}""");
        var info = await container.InvokeAsync("""{"action":"info"}""");

        Assert.Equal(200, echo.StatusCode);
        Assert.Null(echo.FunctionError);
        Assert.Equal("""{"action":"echo","message":"hello from the tests","length":20}""", echo.Body);
        Assert.Equal(200, quote.StatusCode);
        Assert.Null(quote.FunctionError);
        Assert.Equal(
            """{"currency":"USD","lines":[{"sku":"A","qty":2,"unitPrice":5.00,"lineTotal":10.00}],"subtotal":10.00,"discounts":[{"code":"TEN","amount":1.00}],"shipping":4.99,"total":13.99}""",
            quote.Body);
        // The function really runs on the runtime of the image it was built for.
        using var infoJson = JsonDocument.Parse(info.Body);
        Assert.StartsWith(runtime + ".", infoJson.RootElement.GetProperty("runtimeVersion").GetString());
        Assert.Equal($"AWS_Lambda_dotnet{runtime}", infoJson.RootElement.GetProperty("executionEnvironment").GetString());

        // A REPORT is printed when the runtime has called next again, just after the answer.
        var logs = await container.WaitForLogAsync(l => ReportLine.ParseAll(l).Count >= 3, TimeSpan.FromSeconds(15));
        var reports = ReportLine.ParseAll(logs);
        Assert.Equal(3, reports.Count);
        Assert.NotNull(reports[0].InitDurationMs);
        Assert.All(reports.Skip(1), r => Assert.Null(r.InitDurationMs));
        Assert.All(reports, r => Assert.InRange(r.MaxMemoryUsedMb, 1, 3008));
    }

    [Theory]
    [MemberData(nameof(Runtimes))]
    public async Task The_runtime_sees_what_AWSs_bootstrap_and_image_set(string runtime)
    {
        const string Wrapper = "#!/bin/bash\n"
            + "for v in LAMBDA_RUNTIME_NAME AWS_EXECUTION_ENV DOTNET_ROOT DOTNET_VERSION SSL_CERT_FILE; do echo \"runtime env $v=${!v-<unset>}\"; done\n"
            + "exec \"$@\"\n";
        var image = await ImageBuilder.BuildAsync(SampleImage(runtime), [new ImageFile("/var/task/env-wrapper.sh", Wrapper, Executable: true)]);
        await using var container = await LambdaContainer.StartAsync(
            image, new Dictionary<string, string> { ["AWS_LAMBDA_EXEC_WRAPPER"] = "/var/task/env-wrapper.sh" });

        Assert.Null((await container.InvokeAsync("""{"action":"echo","message":"env"}""")).FunctionError);

        var logs = await container.LogsAsync();
        Assert.Contains($"runtime env LAMBDA_RUNTIME_NAME=dotnet{runtime}", logs);
        Assert.Contains($"runtime env AWS_EXECUTION_ENV=AWS_Lambda_dotnet{runtime}", logs);
        Assert.Contains("runtime env DOTNET_ROOT=/var/lang/bin", logs);
        Assert.Matches($@"runtime env DOTNET_VERSION={runtime}\.0\.\d+", logs);
        // Only AWS's .NET 8 bootstrap points OpenSSL at an empty bundle.
        Assert.Contains(runtime == "8" ? "runtime env SSL_CERT_FILE=/var/runtime/empty-certificates.crt" : "runtime env SSL_CERT_FILE=<unset>", logs);

        var release = await DockerCli.RunAsync(["run", "--rm", "--network", "host", "--entrypoint", "/bin/cat", image, "/var/runtime/runtime-release"]);
        Assert.Matches(
            $@"^NAME=dotnet\nVERSION={runtime}\.0\.\d+-\S+\nLOGGING=amzn-stdout-tlv\nLAMBDA_RUNTIME_NAME=dotnet{runtime}\n$",
            release.EnsureSuccess("cat runtime-release").StdOut);
        var certificates = await DockerCli.RunAsync(["run", "--rm", "--network", "host", "--entrypoint", "/usr/bin/stat", image, "-c", "%s", "/var/runtime/empty-certificates.crt"]);
        Assert.Equal(runtime == "8" ? "0" : "", certificates.StdOut.Trim());
    }

    [Fact]
    public async Task The_emulator_started_with_address_flags_alone_serves_the_function()
    {
        // The command line AWS's emulator needs (it reads no address from the environment).
        await using var container = await LambdaContainer.StartAsync(images.SampleImage10, addressing: EmulatorAddressing.Flags);

        var echo = await container.InvokeAsync("""{"action":"echo","message":"flags"}""");

        Assert.Equal(200, echo.StatusCode);
        Assert.Equal("""{"action":"echo","message":"flags","length":5}""", echo.Body);
        // No address came from the environment: both ports are the flags' (the invoke port answered).
        Assert.DoesNotContain("SL_EMULATOR_", await DockerCli.InspectAsync(container.Name, "{{json .Config.Env}}"));
        Assert.Equal($"[\"{EmulatorCommandLine.EmulatorPath}\"]", await DockerCli.InspectAsync(container.Name, "{{json .Config.Entrypoint}}"));
        var logs = await container.WaitForLogAsync(l => ReportLine.ParseAll(l).Count >= 1, TimeSpan.FromSeconds(15));
        Assert.Contains($"; Runtime API: 127.0.0.1:{container.RuntimeApiPort}", logs);
        var report = Assert.Single(ReportLine.ParseAll(logs));
        Assert.Equal(ReportSource.SealightsEmulator, report.Source);
        Assert.NotNull(report.InitDurationMs);
        Assert.Equal(report.InitDurationMs, ColdStartInit.Milliseconds(logs));
    }

    [Fact]
    public async Task A_throwing_handler_gives_the_lambda_error_shape()
    {
        await using var container = await LambdaContainer.StartAsync(images.SampleImage10);

        var result = await container.InvokeAsync("""{"action":"fail"}""");

        Assert.Equal(200, result.StatusCode);
        Assert.Equal("Unhandled", result.FunctionError);
        using var error = JsonDocument.Parse(result.Body);
        Assert.Equal("InvalidOperationException", error.RootElement.GetProperty("errorType").GetString());
        Assert.Equal("Deliberate failure: the fail action always throws.", error.RootElement.GetProperty("errorMessage").GetString());
        var stackTrace = error.RootElement.GetProperty("stackTrace");
        Assert.Equal(JsonValueKind.Array, stackTrace.ValueKind);
        Assert.Contains(stackTrace.EnumerateArray(), frame => frame.GetString()!.Contains("SampleFunction.Function.Fail"));

        // The environment survives a function error: the next invocation works.
        var next = await container.InvokeAsync("""{"action":"echo","message":"still alive"}""");
        Assert.Null(next.FunctionError);
        Assert.Contains("still alive", next.Body);
    }

    [Fact]
    public async Task A_bad_handler_string_gives_the_bootstraps_exit_code_and_message()
    {
        var direct = await DockerCli.RunAsync(
            ["run", "--rm", "--network", "host", "--entrypoint", "/var/runtime/bootstrap", images.SampleImage10, "NoSuchThing"]);

        Assert.Equal(104, direct.ExitCode);
        Assert.Contains("/var/task/NoSuchThing.dll", direct.StdErr);

        // Through the emulator the caller sees the runtime's exit as Runtime.ExitError.
        await using var container = await LambdaContainer.StartAsync(images.SampleImage10, command: ["NoSuchThing"]);
        var result = await container.InvokeAsync("{}");
        Assert.Equal("Unhandled", result.FunctionError);
        using var error = JsonDocument.Parse(result.Body);
        Assert.Equal("Runtime.ExitError", error.RootElement.GetProperty("errorType").GetString());
        Assert.Contains("exit status 104", error.RootElement.GetProperty("errorMessage").GetString());
    }

    [Fact]
    public async Task The_entrypoint_takes_exactly_one_handler_argument()
    {
        var result = await DockerCli.RunAsync(["run", "--rm", "--network", "host", images.SampleImage10, "A::B::C", "extra"]);

        Assert.Equal(142, result.ExitCode);
    }

    [Fact]
    public async Task The_exec_wrapper_runs_with_the_runtimes_full_command_line()
    {
        var image = await ImageBuilder.BuildAsync(
            images.SampleImage10,
            [new ImageFile("/var/task/wrapper.sh", "#!/bin/bash\necho \"wrapper argv: $*\"\nexport WRAPPED=yes\nexec \"$@\"\n", Executable: true)]);
        await using var container = await LambdaContainer.StartAsync(
            image, new Dictionary<string, string> { ["AWS_LAMBDA_EXEC_WRAPPER"] = "/var/task/wrapper.sh" });

        var result = await container.InvokeAsync("""{"action":"echo","message":"wrapped"}""");

        Assert.Null(result.FunctionError);
        Assert.Contains("wrapped", result.Body);
        var logs = await container.LogsAsync();
        Assert.Contains(
            "wrapper argv: /var/lang/bin/dotnet exec --depsfile /var/task/SampleFunction.deps.json "
            + "--runtimeconfig /var/task/SampleFunction.runtimeconfig.json "
            + "/var/runtime/Amazon.Lambda.RuntimeSupport.dll " + StandInImages.SampleHandler,
            logs);
    }
}
