namespace SampleFunction;

/// <summary>
/// Discounts, applied in order on the running amount: BULK5 (5 % from 10 units) first, then the
/// coupon (TEN: 10 %). Amounts are rounded to cents, half away from zero.
/// </summary>
public sealed class DiscountRules
{
    public const int BulkQuantity = 10;

    private static readonly Dictionary<string, decimal> Coupons = new(StringComparer.OrdinalIgnoreCase)
    {
        ["TEN"] = 0.10m,
    };

    public IReadOnlyList<Discount> Apply(decimal subtotal, int totalQuantity, string? coupon)
    {
        var applied = new List<Discount>();
        var running = subtotal;
        if (totalQuantity >= BulkQuantity)
        {
            running -= Add(applied, "BULK5", running, 0.05m);
        }
        if (!string.IsNullOrWhiteSpace(coupon))
        {
            if (!Coupons.TryGetValue(coupon, out var rate))
            {
                throw new OrderValidationException($"unknown coupon: {coupon}");
            }
            Add(applied, coupon.ToUpperInvariant(), running, rate);
        }
        return applied;
    }

    private static decimal Add(List<Discount> applied, string code, decimal amount, decimal rate)
    {
        var discount = Math.Round(amount * rate, 2, MidpointRounding.AwayFromZero);
        applied.Add(new Discount(code, discount));
        return discount;
    }
}
