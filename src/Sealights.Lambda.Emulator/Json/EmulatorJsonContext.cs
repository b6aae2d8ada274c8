using System.Text.Json.Serialization;

namespace Sealights.Lambda.Emulator.Json;

/// <summary>Source-generated (NativeAOT-safe) JSON for every body the emulator reads or writes.</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(StatusBody))]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(RegisterResponse))]
[JsonSerializable(typeof(InvokeEventBody))]
[JsonSerializable(typeof(ShutdownEventBody))]
[JsonSerializable(typeof(TelemetrySubscribeRequest))]
[JsonSerializable(typeof(InitStartRecord))]
[JsonSerializable(typeof(InitRuntimeDoneRecord))]
[JsonSerializable(typeof(InitReportRecord))]
[JsonSerializable(typeof(StartRecord))]
[JsonSerializable(typeof(RuntimeDoneRecord))]
[JsonSerializable(typeof(ReportRecord))]
[JsonSerializable(typeof(ExtensionRecord))]
[JsonSerializable(typeof(SubscriptionRecord))]
internal sealed partial class EmulatorJsonContext : JsonSerializerContext;
