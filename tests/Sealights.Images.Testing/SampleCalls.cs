namespace Sealights.Images.Testing;

/// <summary>
/// Invocation payloads of the sample function (samples/SampleFunction) and the method ids of
/// what they run, as the agent reports them: the tests' shared vocabulary for "this path ran".
/// </summary>
public static class SampleCalls
{
    public const string Echo = """{"action":"echo","message":"covered"}""";

    public const string Quote = """{"action":"quote","items":[{"sku":"A","qty":2}],"coupon":"TEN"}""";

    public const string Info = """{"action":"info"}""";

    /// <summary>Runs on <see cref="Echo"/>.</summary>
    public const string EchoMethod = "SampleFunction|SampleFunction.Function|Echo(System.String)";

    /// <summary>Runs on <see cref="Quote"/>.</summary>
    public const string PriceMethod =
        "SampleFunction|SampleFunction.PricingEngine|Price(System.Collections.Generic.IReadOnlyList<SampleFunction.LineItem>,System.String)";
}
