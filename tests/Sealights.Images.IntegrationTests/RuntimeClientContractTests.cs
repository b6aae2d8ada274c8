using System.Text.Json;
using System.Text.RegularExpressions;
using Sealights.Images.IntegrationTests.Infrastructure;
using Sealights.Images.Testing;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// The stand-in runtime client (images/lambda-dotnet-local/RuntimeClient) keeps AWS's
/// Amazon.Lambda.RuntimeSupport contract: real functions in the stand-in image under the emulator.
/// </summary>
[Collection(ContractFunctionsCollection.Name)]
public sealed partial class RuntimeClientContractTests(ContractFunctionsFixture functions)
{
    private const string FunctionName = "contract-fn";

    private static readonly Dictionary<string, string> Settings = new()
    {
        ["AWS_LAMBDA_FUNCTION_NAME"] = FunctionName,
        ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "512",
        ["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "30",
    };

    [Fact]
    public async Task A_function_without_Amazon_Lambda_Core_fails_init_with_AWSs_message()
    {
        await using var container = await LambdaContainer.StartAsync(functions.NoCoreImage);

        var result = await container.InvokeAsync("{}");

        Assert.Equal("Unhandled", result.FunctionError);
        using var error = JsonDocument.Parse(result.Body);
        Assert.Equal("FileNotFoundException", error.RootElement.GetProperty("errorType").GetString());
        Assert.StartsWith(
            "Could not load file or assembly 'Amazon.Lambda.Core, Version=1.0.0.0, Culture=neutral",
            error.RootElement.GetProperty("errorMessage").GetString());
        var logs = await container.WaitForLogAsync(l => l.Contains("System.IO.FileNotFoundException"), TimeSpan.FromSeconds(10));
        Assert.Matches(@"Z\t\tfail\tSystem\.IO\.FileNotFoundException: Could not load file or assembly 'Amazon\.Lambda\.Core, Version=1\.0\.0\.0", logs);

        // The runtime's own copy is there, as in AWS's image, and is not probed: only the function's deps count.
        var runtimeCopy = await DockerCli.RunAsync(["run", "--rm", "--network", "host", "--entrypoint", "/bin/ls", functions.NoCoreImage, "/var/runtime/Amazon.Lambda.Core.dll"]);
        Assert.Equal(0, runtimeCopy.ExitCode);
    }

    public static TheoryData<string, string, string> ContextFreeShapes => new()
    {
        { "NoInputVoid", "{}", "" },                                  // () -> void
        { "NoInputTask", "{}", "" },                                  // () -> Task
        { "StreamEcho", "abc", "stream:abc" },                        // (Stream) -> Stream
        { "Typed", """{"name":"Ada"}""", """{"text":"hello Ada"}""" }, // (T) -> T, assembly serializer
        { "StaticString", "{}", "\"static\"" },                       // static () -> string through the serializer
        { "MethodSerializer", """{"name":"Ada"}""", """{"TEXT":"HELLO ADA"}""" }, // the method's serializer wins
    };

    [Theory]
    [MemberData(nameof(ContextFreeShapes))]
    public async Task Each_handler_shape_answers(string method, string payload, string expected)
    {
        await using var container = await LambdaContainer.StartAsync(functions.FunctionsImage, Settings, command: [ContractFunctionsFixture.Handler(method)]);

        var result = await container.InvokeAsync(payload);

        Assert.Null(result.FunctionError);
        Assert.Equal(expected, result.Body);
    }

    [Fact]
    public async Task Stream_and_context_to_Task_of_Stream_gets_the_request_id()
    {
        await using var container = await LambdaContainer.StartAsync(
            functions.FunctionsImage, Settings, command: [ContractFunctionsFixture.Handler("StreamWithContextAsync")]);

        var result = await container.InvokeAsync("abc");

        Assert.Null(result.FunctionError);
        Assert.Matches("^[0-9a-f-]{36}:abc$", result.Body);
    }

    [Fact]
    public async Task Typed_input_and_context_to_Task_of_T_logs_through_the_context_logger()
    {
        await using var container = await LambdaContainer.StartAsync(
            functions.FunctionsImage, Settings, command: [ContractFunctionsFixture.Handler("TypedWithContextAsync")]);

        var result = await container.InvokeAsync("""{"name":"Ada"}""");

        Assert.Null(result.FunctionError);
        Assert.Equal($$"""{"text":"hello Ada from {{FunctionName}}"}""", result.Body);
        var logs = await container.WaitForLogAsync(l => l.Contains("a warning line"), TimeSpan.FromSeconds(10));
        Assert.Matches(@"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t[0-9a-f-]{36}\tinfo\tgreeting Ada", logs);
        Assert.Matches(@"Z\t[0-9a-f-]{36}\twarn\ta warning line", logs);
    }

    [Fact]
    public async Task A_context_only_handler_sees_the_real_context_values()
    {
        await using var container = await LambdaContainer.StartAsync(
            functions.FunctionsImage, Settings, command: [ContractFunctionsFixture.Handler("ContextOnly")]);

        var result = await container.InvokeAsync("{}");

        Assert.Null(result.FunctionError);
        using var json = JsonDocument.Parse(result.Body);
        var context = json.RootElement;
        Assert.Matches("^[0-9a-f-]{36}$", context.GetProperty("awsRequestId").GetString());
        Assert.Equal(FunctionName, context.GetProperty("functionName").GetString());
        Assert.Equal("$LATEST", context.GetProperty("functionVersion").GetString());
        Assert.EndsWith($":function:{FunctionName}", context.GetProperty("invokedFunctionArn").GetString());
        Assert.Equal(512, context.GetProperty("memoryLimitInMB").GetInt32());
        // From the deadline header: the 30 s timeout less what the invocation has used so far.
        Assert.InRange(context.GetProperty("remainingTimeMs").GetDouble(), 20_000, 30_000);
        Assert.Equal($"/aws/lambda/{FunctionName}", context.GetProperty("logGroupName").GetString());
        Assert.Contains("[$LATEST]", context.GetProperty("logStreamName").GetString());
        Assert.False(context.GetProperty("hasClientContext").GetBoolean());
        Assert.False(context.GetProperty("hasIdentity").GetBoolean());
    }

    [Fact]
    public async Task A_throwing_handler_answers_AWSs_error_document_and_log_line()
    {
        await using var container = await LambdaContainer.StartAsync(
            functions.FunctionsImage, Settings, command: [ContractFunctionsFixture.Handler("Throws")]);

        var result = await container.InvokeAsync("{}");

        Assert.Equal("Unhandled", result.FunctionError);
        // Indented, as RuntimeSupport writes it.
        Assert.StartsWith("{\n  \"errorType\": \"InvalidOperationException\",\n  \"errorMessage\": \"outer failure\",", result.Body.Replace("\r\n", "\n"));
        Assert.DoesNotContain("\\u0060", result.Body); // generic frames read as in the exception text (Span`1)
        using var error = JsonDocument.Parse(result.Body);
        var root = error.RootElement;
        Assert.Contains(root.GetProperty("stackTrace").EnumerateArray(), f => f.GetString()!.StartsWith("at Contract.Functions.Handlers.Throws(", StringComparison.Ordinal));
        Assert.Equal("ArgumentException", root.GetProperty("cause").GetProperty("errorType").GetString());
        Assert.Equal("inner cause", root.GetProperty("cause").GetProperty("errorMessage").GetString());

        var logs = await container.WaitForLogAsync(l => l.Contains("outer failure"), TimeSpan.FromSeconds(10));
        Assert.Matches(@"(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t[0-9a-f-]{36}\tfail\tSystem\.InvalidOperationException: outer failure$", logs);
        Assert.Contains("   at Contract.Functions.Handlers.Throws(", logs);

        // The environment survives a function error.
        Assert.Equal("Unhandled", (await container.InvokeAsync("{}")).FunctionError);
    }

    [Fact]
    public async Task A_shape_RuntimeSupport_rejects_fails_init_with_its_message()
    {
        await using var container = await LambdaContainer.StartAsync(
            functions.FunctionsImage, Settings, command: [ContractFunctionsFixture.Handler("SecondParameterNotContext")]);

        var result = await container.InvokeAsync("{}");

        Assert.Equal("Unhandled", result.FunctionError);
        using var error = JsonDocument.Parse(result.Body);
        Assert.Equal("LambdaValidationException", error.RootElement.GetProperty("errorType").GetString());
        Assert.Equal(
            "Method 'SecondParameterNotContext' of type 'Contract.Functions.Handlers' is not supported: the method has 2 parameters, "
            + "but the second parameter is not of type 'Amazon.Lambda.Core.ILambdaContext'.",
            error.RootElement.GetProperty("errorMessage").GetString());
    }

    [Fact]
    public async Task An_executable_assembly_function_runs_its_own_loop_and_answers()
    {
        await using var container = await LambdaContainer.StartAsync(functions.ExecutableImage);

        var first = await container.InvokeAsync("ping");
        var second = await container.InvokeAsync("pong");

        Assert.Null(first.FunctionError);
        Assert.Equal("executable:ping", first.Body);
        Assert.Equal("executable:pong", second.Body);
        var logs = await container.LogsAsync();
        Assert.Contains("executable function started", logs);
    }
}
