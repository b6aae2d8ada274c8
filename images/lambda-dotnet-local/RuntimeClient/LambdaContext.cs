using System.Globalization;
using Amazon.Lambda.Core;

namespace Sealights.Lambda.LocalRuntime;

/// <summary>
/// <see cref="ILambdaContext"/> for one invocation: the invocation's headers plus the function's
/// settings from the environment Lambda (or the emulator) gives the runtime.
/// </summary>
internal sealed class LambdaContext(Invocation invocation, FunctionSettings function) : ILambdaContext
{
    public string AwsRequestId => invocation.RequestId;

    public IClientContext? ClientContext { get; } = ClientContextHeader.Parse(invocation.ClientContext);

    public string FunctionName => function.Name;

    public string FunctionVersion => function.Version;

    public ICognitoIdentity? Identity { get; } = CognitoIdentityHeader.Parse(invocation.CognitoIdentity);

    public string InvokedFunctionArn => invocation.InvokedFunctionArn ?? "";

    public ILambdaLogger Logger { get; } = new ConsoleLambdaLogger(invocation.RequestId);

    public string LogGroupName => function.LogGroupName;

    public string LogStreamName => function.LogStreamName;

    public int MemoryLimitInMB => function.MemoryLimitInMB;

    /// <summary>From <c>Lambda-Runtime-Deadline-Ms</c> (epoch milliseconds), read each time it is asked.</summary>
    public TimeSpan RemainingTime =>
        TimeSpan.FromMilliseconds(invocation.DeadlineMs - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
}

/// <summary>The function's settings Lambda passes to the runtime as environment variables.</summary>
internal sealed record FunctionSettings(string Name, string Version, int MemoryLimitInMB, string LogGroupName, string LogStreamName)
{
    public static FunctionSettings FromEnvironment() => new(
        Variable("AWS_LAMBDA_FUNCTION_NAME"),
        Variable("AWS_LAMBDA_FUNCTION_VERSION"),
        int.TryParse(Variable("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var mb) ? mb : 0,
        Variable("AWS_LAMBDA_LOG_GROUP_NAME"),
        Variable("AWS_LAMBDA_LOG_STREAM_NAME"));

    private static string Variable(string name) => Environment.GetEnvironmentVariable(name) ?? "";
}
