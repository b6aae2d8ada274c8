namespace SampleFunction;

/// <summary>The products the function can price (a fixed list: the sample has no database).</summary>
public sealed class PriceCatalog
{
    private readonly Dictionary<string, decimal> prices = new(StringComparer.OrdinalIgnoreCase)
    {
        ["A"] = 5.00m,
        ["B"] = 12.50m,
        ["C"] = 0.99m,
    };

    public bool TryGetPrice(string sku, out decimal price) => prices.TryGetValue(sku, out price);
}
