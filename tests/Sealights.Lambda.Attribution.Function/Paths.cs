namespace Attribution;

/// <summary>Payloads A and B: prices through LINQ (a framework callback into a lambda) and a generic.</summary>
public sealed class Pricing_Init(decimal factor)
{
    public string Quote_A(int[] quantities)
    {
        var total = PriceLines_AB(quantities);
        var discounted = Discount_A(total);
        return Generic.Echo_AB(discounted).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
    }

    public string Rank_B(List<string> names)
    {
        // List.Sort calls back into the lambda: framework code running application code.
        names.Sort((x, y) => x.Length.CompareTo(y.Length));
        var total = PriceLines_AB([names.Count, names[0].Length]);
        return Generic.Echo_AB(names[0]) + "/" + total;
    }

    private decimal PriceLines_AB(int[] quantities) => quantities.Sum(q => q * factor);

    private static decimal Discount_A(decimal total) => total > 10 ? total * 0.9m : total;
}

/// <summary>One generic method, instantiated over a value type (A) and a reference type (B).</summary>
public static class Generic
{
    public static T Echo_AB<T>(T value) => value;
}

/// <summary>Payloads B and C: a struct's method.</summary>
public readonly struct Parcel_BC(int width, int height)
{
    public int Weigh_BC() => width * height;
}

public static class Shipping
{
    public static string Ship_BC(Parcel_BC parcel) => "ship " + parcel.Weigh_BC();
}

/// <summary>Payload C: an async method awaiting an async iterator.</summary>
public static class Audit
{
    public static async Task<string> Run_C(int count)
    {
        var sum = 0;
        await foreach (var step in Steps_C(count))
        {
            sum += step;
        }

        return " audited " + sum;
    }

    private static async IAsyncEnumerable<int> Steps_C(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return i;
        }
    }

    /// <summary>Nothing calls it: in no payload's set.</summary>
    public static int Unused_None() => 0;
}
