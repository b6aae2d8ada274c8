namespace Amazon.Lambda.Core;

/// <summary>What the runtime knows about the current invocation and the function.</summary>
public interface ILambdaContext
{
    /// <summary>The request id of this invocation (the <c>Lambda-Runtime-Aws-Request-Id</c> header).</summary>
    string AwsRequestId { get; }

    /// <summary>The mobile client's context, when the caller sent one; otherwise null.</summary>
    IClientContext ClientContext { get; }

    /// <summary>The function's name.</summary>
    string FunctionName { get; }

    /// <summary>The function version that runs (the alias target when invoked through an alias).</summary>
    string FunctionVersion { get; }

    /// <summary>The Cognito identity of a mobile caller, or null.</summary>
    ICognitoIdentity Identity { get; }

    /// <summary>The ARN the caller invoked (function or alias ARN).</summary>
    string InvokedFunctionArn { get; }

    /// <summary>The logger of this invocation.</summary>
    ILambdaLogger Logger { get; }

    /// <summary>The CloudWatch log group of the function.</summary>
    string LogGroupName { get; }

    /// <summary>The CloudWatch log stream of this execution environment.</summary>
    string LogStreamName { get; }

    /// <summary>The memory configured for the function, in MB.</summary>
    int MemoryLimitInMB { get; }

    /// <summary>Time left until the invocation's deadline.</summary>
    TimeSpan RemainingTime { get; }
}
