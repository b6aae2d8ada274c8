namespace Fixture;

// A record (its synthesized members are not source methods), operators and extension methods.
public record Point(int X, int Y)
{
    public int Length()
    {
        return X + Y;
    }
}

public readonly struct Money
{
    private readonly decimal _amount;

    public Money(decimal amount)
    {
        _amount = amount;
    }

    public static Money operator +(Money left, Money right)
    {
        return new Money(left._amount + right._amount);
    }

    public static implicit operator decimal(Money money)
    {
        return money._amount;
    }

    public static explicit operator double(Money money)
    {
        return (double)money._amount;
    }
}

public static class TextExtensions
{
    public static string Shout(this string text)
    {
        return text.ToUpperInvariant();
    }
}
