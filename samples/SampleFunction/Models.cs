using System.Text.Json.Serialization;

namespace SampleFunction;

/// <summary>Every input shares one shape; <see cref="Action"/> selects the code path.</summary>
public sealed record FunctionRequest(string? Action, IReadOnlyList<LineItem>? Items, string? Coupon, string? Message, int? Ms = null);

public sealed record LineItem(string? Sku, int Qty);

public sealed record QuoteLine(string Sku, int Qty, decimal UnitPrice, decimal LineTotal);

public sealed record Discount(string Code, decimal Amount);

public sealed record Quote(
    string Currency,
    IReadOnlyList<QuoteLine> Lines,
    decimal Subtotal,
    IReadOnlyList<Discount> Discounts,
    decimal Shipping,
    decimal Total);

public sealed record EchoResponse(string Action, string Message, int Length);

public sealed record WaitResponse(string Action, int Ms);

public sealed record InfoResponse(string Action, string Framework, string RuntimeVersion, string? ExecutionEnvironment, string? FunctionName);

/// <summary>A client error, shaped like an HTTP 4xx so callers can tell it from a function error.</summary>
public sealed record ClientError(int StatusCode, string Error, IReadOnlyList<string>? SupportedActions = null);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FunctionRequest))]
[JsonSerializable(typeof(Quote))]
[JsonSerializable(typeof(EchoResponse))]
[JsonSerializable(typeof(WaitResponse))]
[JsonSerializable(typeof(InfoResponse))]
[JsonSerializable(typeof(ClientError))]
internal sealed partial class SampleJsonContext : JsonSerializerContext;
