using System.Text.Json;
using Sealights.Lambda.Emulator.Processes;
using Sealights.Lambda.Emulator.Telemetry;

namespace Sealights.Lambda.Emulator.Environment;

/// <summary>What the Runtime, Extensions and Telemetry APIs and the child reaper tell the environment.</summary>
internal sealed partial class ExecutionEnvironment
{
    private static readonly ApiError NoEnvironment = new(403, "InvalidStateTransition", "No execution environment is initializing or running");

    // ---- Runtime API ----------------------------------------------------------------------

    /// <summary>GET /runtime/invocation/next: blocks until an invocation is dispatched.</summary>
    public async Task<Invocation> RuntimeNextAsync(CancellationToken aborted)
    {
        Sandbox sandbox;
        Task<Invocation> next;
        lock (_lock)
        {
            // Shutting down (SIGTERM), the environment gives the runtime nothing more, but it does
            // not refuse it either: as on Lambda, its next stays open until it is stopped. A 403
            // there made a runtime exit by itself during its exec wrapper's pre-SIGTERM flush.
            if (_sandbox is not { } current || (current.Retired && !_shutdownRequested))
            {
                throw new ApiException(NoEnvironment);
            }
            sandbox = current;
            next = sandbox.RuntimeNext.Wait(Clock.Now);
            _changed.Pulse();
        }
        try
        {
            return await next.WaitAsync(aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                sandbox.RuntimeNext.Abandon(next);
            }
            throw;
        }
    }

    /// <summary>POST /runtime/invocation/{id}/response. The caller is answered right here, without waiting for extensions.</summary>
    public void RuntimeResponse(string requestId, byte[]? body)
    {
        lock (_lock)
        {
            if (RuntimeDoneFor(requestId) is not { } invocation)
            {
                throw new ApiException(InvalidRequestId(requestId));
            }
            if (body is null)
            {
                throw new ApiException(ResponseTooLarge(invocation));
            }
            invocation.ProducedBytes = body.Length;
            invocation.Request.TryAnswer(InvokeResult.Success(body));
            EmitRuntimeDone(invocation);
        }
    }

    /// <summary>POST /runtime/invocation/{id}/error: the caller gets 200 with X-Amz-Function-Error: Unhandled.</summary>
    public void RuntimeError(string requestId, byte[]? body, string? errorTypeHeader)
    {
        lock (_lock)
        {
            if (RuntimeDoneFor(requestId) is not { } invocation)
            {
                throw new ApiException(InvalidRequestId(requestId));
            }
            if (body is null)
            {
                throw new ApiException(ResponseTooLarge(invocation));
            }
            var (errorBody, errorType, _) = NormalizeError(body, errorTypeHeader, "Function error");
            invocation.RuntimeStatus = "error";
            invocation.ErrorType = errorType;
            invocation.ProducedBytes = body.Length;
            invocation.Request.TryAnswer(InvokeResult.Unhandled(errorBody));
            EmitRuntimeDone(invocation);
        }
    }

    /// <summary>POST /runtime/init/error: init fails with the runtime's error.</summary>
    public void RuntimeInitError(byte[] body, string? errorTypeHeader)
    {
        lock (_lock)
        {
            if (_sandbox is not { Retired: false, InitCompleted: false } || _initiator is null)
            {
                throw new ApiException(new ApiError(403, "InvalidStateTransition", "init/error is accepted only during init"));
            }
            var (errorBody, errorType, errorMessage) = NormalizeError(body, errorTypeHeader, "Runtime init error");
            Fail(EnvironmentFailure.Create(errorType, $"RequestId: {_initiator.RequestId} Error: {errorMessage}", "error", "failure",
                duringInit: true, callerBody: errorBody));
        }
    }

    /// <summary>Marks the runtime's part of the current invocation done, if <paramref name="requestId"/> is the one it may answer.</summary>
    private Invocation? RuntimeDoneFor(string requestId)
    {
        if (_current is not { } invocation || invocation.RequestId != requestId || invocation.RuntimeDone || invocation.Request.Answered || _failure is not null)
        {
            return null;
        }
        invocation.RuntimeDone = true;
        invocation.RuntimeDoneTimestamp = Clock.Now;
        _changed.Pulse();
        return invocation;
    }

    private ApiError ResponseTooLarge(Invocation invocation)
    {
        var message = $"Response payload size exceeded maximum allowed payload size ({MaxPayloadBytes} bytes).";
        invocation.RuntimeStatus = "error";
        invocation.ErrorType = "Function.ResponseSizeTooLarge";
        invocation.Request.TryAnswer(InvokeResult.Unhandled("Function.ResponseSizeTooLarge", message));
        EmitRuntimeDone(invocation);
        return new ApiError(413, "RequestEntityTooLarge", message);
    }

    private void EmitRuntimeDone(Invocation invocation) => _events.RuntimeDone(
        invocation.RequestId, invocation.RuntimeStatus, invocation.ErrorType,
        Clock.Milliseconds(invocation.DispatchTimestamp, invocation.RuntimeDoneTimestamp ?? Clock.Now),
        invocation.ProducedBytes, invocation.Request.TraceId);

    private static ApiError InvalidRequestId(string requestId) =>
        new(400, "InvalidRequestID", $"Invalid request ID: '{requestId}' is not the pending invocation or was answered already");

    /// <summary>A posted error as the caller sees it: the JSON object as posted, or one built from the header and text.</summary>
    private static (byte[] Body, string ErrorType, string ErrorMessage) NormalizeError(byte[] body, string? errorTypeHeader, string fallbackMessage)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                var root = document.RootElement;
                var type = root.TryGetProperty("errorType", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                var message = root.TryGetProperty("errorMessage", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                return (body, NonEmpty(errorTypeHeader) ?? NonEmpty(type) ?? "Runtime.Unknown", NonEmpty(message) ?? fallbackMessage);
            }
        }
        catch (JsonException)
        {
        }
        var errorType = NonEmpty(errorTypeHeader) ?? "Runtime.Unknown";
        var text = System.Text.Encoding.UTF8.GetString(body).Trim();
        var errorMessage = text.Length > 0 ? text : fallbackMessage;
        return (InvokeResult.ErrorJson(errorType, errorMessage), errorType, errorMessage);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    // ---- Extensions API -------------------------------------------------------------------

    /// <summary>
    /// POST /extension/register. The file name of a started, not yet registered extension
    /// makes an external extension; any other name is an internal one (inside the runtime).
    /// </summary>
    public ExtensionAgent RegisterExtension(string name, IReadOnlyList<string> events)
    {
        ExtensionAgent agent;
        lock (_lock)
        {
            if (_sandbox is not { Retired: false, InitCompleted: false } sandbox)
            {
                throw new ApiException(new ApiError(403, "Extension.InvalidStateTransition", "Extensions can register only during init"));
            }
            if (sandbox.Agents.Any(a => a.Name == name))
            {
                throw new ApiException(new ApiError(403, "Extension.AlreadyRegistered", $"Extension '{name}' is already registered"));
            }
            var process = sandbox.ExtensionProcesses.FirstOrDefault(p => p.Name == name && p.Agent is null);
            if (process is null && events.Contains("SHUTDOWN"))
            {
                throw new ApiException(new ApiError(403, "ShutdownEventNotSupportedForInternalExtension",
                    $"'{name}' is not the file name of an external extension, so it is internal, and internal extensions cannot receive SHUTDOWN"));
            }
            agent = new ExtensionAgent(name, process is not null, events, process);
            if (process is not null)
            {
                process.Agent = agent;
            }
            sandbox.Agents.Add(agent);
            _events.Extension(name, events);
            _changed.Pulse();
        }
        _log.Info($"extension {name} registered ({(agent.IsExternal ? "external" : "internal")}) for [{string.Join(", ", events)}]");
        return agent;
    }

    /// <summary>GET /extension/event/next: blocks until the next INVOKE or SHUTDOWN.</summary>
    public async Task<ExtensionEvent> ExtensionNextAsync(string? extensionId, CancellationToken aborted)
    {
        ExtensionAgent agent;
        Task<ExtensionEvent> next;
        lock (_lock)
        {
            agent = FindAgent(extensionId);
            next = agent.Next.Wait(Clock.Now);
            _changed.Pulse();
        }
        try
        {
            return await next.WaitAsync(aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                agent.Next.Abandon(next);
            }
            throw;
        }
    }

    /// <summary>POST /extension/init/error: init fails with the extension's error type.</summary>
    public void ExtensionInitError(string? extensionId, string errorType)
    {
        lock (_lock)
        {
            var agent = FindAgent(extensionId);
            if (_sandbox is not { InitCompleted: false } || _initiator is null)
            {
                throw new ApiException(new ApiError(403, "Extension.InvalidStateTransition", "init/error is accepted only during init"));
            }
            Fail(EnvironmentFailure.Create(errorType,
                $"RequestId: {_initiator.RequestId} Error: extension {agent.Name} reported an init error: {errorType}", "error", "failure", duringInit: true));
        }
    }

    /// <summary>POST /extension/exit/error: the environment is reset.</summary>
    public void ExtensionExitError(string? extensionId, string errorType)
    {
        lock (_lock)
        {
            var agent = FindAgent(extensionId);
            var requestId = CurrentRequestId;
            Fail(EnvironmentFailure.Create(errorType,
                $"{(requestId is null ? "" : $"RequestId: {requestId} ")}Error: extension {agent.Name} reported an exit error: {errorType}",
                "error", "failure", duringInit: _sandbox is { InitCompleted: false }));
        }
    }

    /// <summary>PUT /2022-07-01/telemetry.</summary>
    public void SubscribeTelemetry(string? extensionId, TelemetrySettings settings)
    {
        string name;
        lock (_lock)
        {
            name = FindAgent(extensionId).Name;
            _telemetry.Subscribe(name, settings);
            _events.Subscription(name, settings.Types);
        }
    }

    /// <summary>The registered extension's name; refuses a missing or unknown identifier.</summary>
    public string ExtensionName(string? extensionId)
    {
        lock (_lock)
        {
            return FindAgent(extensionId).Name;
        }
    }

    private ExtensionAgent FindAgent(string? extensionId)
    {
        if (string.IsNullOrEmpty(extensionId))
        {
            throw new ApiException(new ApiError(403, "Extension.MissingExtensionIdentifier", "Missing Lambda-Extension-Identifier header"));
        }
        return _sandbox?.Agents.FirstOrDefault(a => a.Id == extensionId)
            ?? throw new ApiException(new ApiError(403, "Extension.InvalidExtensionIdentifier", $"Unknown extension identifier '{extensionId}'"));
    }

    // ---- Process exits (reaper thread) ----------------------------------------------------

    private void OnRuntimeExited(Sandbox sandbox, ExitStatus status)
    {
        lock (_lock)
        {
            if (sandbox != _sandbox || sandbox.Retired)
            {
                _changed.Pulse();
                return;
            }
            var requestId = CurrentRequestId;
            Fail(EnvironmentFailure.Create("Runtime.ExitError",
                $"{(requestId is null ? "" : $"RequestId: {requestId} ")}Error: Runtime exited with error: {status}",
                "failure", "failure", duringInit: !sandbox.InitCompleted));
        }
    }

    /// <summary>Any exit of an extension before its SHUTDOWN, even exit 0, is Extension.Crash.</summary>
    private void OnExtensionExited(Sandbox sandbox, ExtensionProcess extension, ExitStatus status)
    {
        lock (_lock)
        {
            if (sandbox != _sandbox || sandbox.Retired || extension.Agent is { ShutdownSent: true })
            {
                _changed.Pulse();
                return;
            }
            var requestId = CurrentRequestId;
            var how = status.Code is { } code ? $"status {code}" : status.ToString();
            Fail(EnvironmentFailure.Create("Extension.Crash",
                $"{(requestId is null ? "" : $"RequestId: {requestId} ")}Error: extension {extension.Name} exited with {how}",
                "failure", "failure", duringInit: !sandbox.InitCompleted));
        }
    }
}

/// <summary>An API call refused by the environment; the endpoint turns it into Lambda's error JSON.</summary>
internal sealed class ApiException(ApiError error) : Exception(error.ErrorMessage)
{
    public ApiError Error { get; } = error;
}
