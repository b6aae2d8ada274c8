namespace Fixture;

// A generic type with a nested type, so ids show !0 (type parameter) and !!0 (method parameter).
public class Box<T>
{
    private T _value;

    public Box(T value)
    {
        _value = value;
    }

    public T Get()
    {
        return _value;
    }

    public TOut Map<TOut>(Func<T, TOut> map)
    {
        return map(_value);
    }

    public class Slot
    {
        public T Fill(T value, Box<T> owner)
        {
            return value;
        }
    }
}

public class Outer
{
    public class Inner
    {
        public int Depth()
        {
            return 2;
        }
    }
}

// Closures and state machines of generic methods are generic types themselves (<>c__0`2, <Repeat>d__1`1).
public static class Sequences
{
    public static IEnumerable<TOut> Project<TIn, TOut>(IEnumerable<TIn> items, Func<TIn, TOut> map)
    {
        return items.Where(x => x is not null).Select(map);
    }

    public static IEnumerable<T> Repeat<T>(T item, int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return item;
        }
    }
}
