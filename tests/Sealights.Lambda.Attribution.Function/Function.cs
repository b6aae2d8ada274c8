using System.Text;

namespace Attribution;

/// <summary>
/// The handler: Attribution::Attribution.Function_Init::Handle_ABC. The payload is the bare
/// letter A, B or C. Nothing here keeps state between invocations and no type has a static
/// constructor, so every invocation of a payload executes the same methods, warm or cold.
/// </summary>
public sealed class Function_Init
{
    private readonly Pricing_Init _pricing;

    public Function_Init()
    {
        _pricing = new Pricing_Init(1.5m);
    }

    public Stream Handle_ABC(Stream input)
    {
        var payload = Read_ABC(input);
        var answer = payload switch
        {
            "A" => _pricing.Quote_A([3, 4, 5]),
            "B" => _pricing.Rank_B(["pear", "fig", "banana"]) + Shipping.Ship_BC(new Parcel_BC(2, 3)),
            "C" => Shipping.Ship_BC(new Parcel_BC(5, 1)) + Audit.Run_C(3).GetAwaiter().GetResult(),
            _ => "unknown " + payload,
        };
        return new MemoryStream(Encoding.UTF8.GetBytes(Format_ABC(payload, answer)));
    }

    private static string Read_ABC(Stream input)
    {
        using var reader = new StreamReader(input);
        return reader.ReadToEnd().Trim().Trim('"');
    }

    private static string Format_ABC(string payload, string answer) => new Receipt_ABC(payload, answer).Text();
}

/// <summary>A record with a positional constructor; its Text method runs for every payload.</summary>
public sealed record Receipt_ABC(string Payload, string Answer)
{
    public string Text() => Payload + ":" + Answer;
}
