using System.Text.Json;
using Sealights.Lambda.Emulator.Json;

namespace Sealights.Lambda.Emulator.Environment;

/// <summary>Builds the Extensions API events (INVOKE, SHUTDOWN).</summary>
internal static class ExtensionEvents
{
    public static ExtensionEvent Invoke(Invocation invocation, string invokedFunctionArn) => new(
        Guid.NewGuid().ToString(),
        JsonSerializer.SerializeToUtf8Bytes(
            new InvokeEventBody("INVOKE", invocation.DeadlineEpochMs, invocation.RequestId, invokedFunctionArn,
                new TracingBody("X-Amzn-Trace-Id", invocation.Request.TraceId)),
            EmulatorJsonContext.Default.InvokeEventBody),
        "INVOKE");

    public static ExtensionEvent Shutdown(string reason, long deadlineEpochMs) => new(
        Guid.NewGuid().ToString(),
        JsonSerializer.SerializeToUtf8Bytes(new ShutdownEventBody("SHUTDOWN", deadlineEpochMs, reason), EmulatorJsonContext.Default.ShutdownEventBody),
        "SHUTDOWN");
}
