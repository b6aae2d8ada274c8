namespace SampleFunction;

/// <summary>A request the function refuses (bad input, not a bug): answered as a 400 body.</summary>
public sealed class OrderValidationException(string message) : Exception(message);

/// <summary>Prices an order: catalog prices, then bulk and coupon discounts, then shipping.</summary>
public sealed class PricingEngine(PriceCatalog catalog, DiscountRules discounts)
{
    public const decimal Shipping = 4.99m;
    public const decimal FreeShippingFrom = 50.00m;

    public Quote Price(IReadOnlyList<LineItem>? items, string? coupon)
    {
        if (items is null || items.Count == 0)
        {
            throw new OrderValidationException("a quote needs at least one item");
        }
        var lines = items.Select(PriceLine).ToList();
        var subtotal = lines.Sum(l => l.LineTotal);
        var applied = discounts.Apply(subtotal, lines.Sum(l => l.Qty), coupon);
        var discounted = subtotal - applied.Sum(d => d.Amount);
        var shipping = discounted >= FreeShippingFrom ? 0.00m : Shipping;
        return new Quote("USD", lines, subtotal, applied, shipping, discounted + shipping);
    }

    private QuoteLine PriceLine(LineItem item)
    {
        if (string.IsNullOrWhiteSpace(item.Sku))
        {
            throw new OrderValidationException("every item needs a sku");
        }
        if (item.Qty <= 0)
        {
            throw new OrderValidationException($"qty of {item.Sku} must be positive");
        }
        if (!catalog.TryGetPrice(item.Sku, out var price))
        {
            throw new OrderValidationException($"unknown sku: {item.Sku}");
        }
        return new QuoteLine(item.Sku.ToUpperInvariant(), item.Qty, price, price * item.Qty);
    }
}
