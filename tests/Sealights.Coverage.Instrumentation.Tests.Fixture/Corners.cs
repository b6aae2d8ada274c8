using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Corners;

public abstract class Shape
{
    public abstract double Area();

    public virtual string Describe() => $"shape of area {Area():0.00}";
}

public class Square(double side) : Shape
{
    public override double Area() => side * side;

    public override string Describe() => "square, " + base.Describe();
}

public sealed class Unit : Square
{
    public Unit() : base(1)
    {
    }

    public sealed override double Area() => base.Area();
}

public static class Hierarchy
{
    public static void Check()
    {
        Shape[] shapes = [new Square(2), new Unit()];
        Checks.Equal(4.0, shapes[0].Area(), "square area");
        Checks.Equal(1.0, shapes[1].Area(), "unit area");
        Checks.Equal("square, shape of area 4.00", shapes[0].Describe(), "override calling base");
    }
}

public static class AsyncWork
{
    public static async Task<int> SumAsync(int n)
    {
        var total = 0;
        for (var i = 1; i <= n; i++)
        {
            await Task.Yield();
            total += i;
        }

        return total;
    }

    public static async ValueTask<string> NameAsync(string name)
    {
        await Task.Delay(1);
        return name.ToUpperInvariant();
    }

    public static async Task Check()
    {
        Checks.Equal(15, await SumAsync(5), "async sum");
        Checks.Equal("ABC", await NameAsync("abc"), "async ValueTask");
    }
}

public static class Sequences
{
    public static int Started;

    public static IEnumerable<int> Count(int n)
    {
        Started++;
        try
        {
            for (var i = 0; i < n; i++)
            {
                yield return i;
            }
        }
        finally
        {
            Started += 100;
        }
    }

    public static void Check()
    {
        Started = 0;
        var created = Count(3);
        Checks.Equal(0, Started, "an iterator that is only created runs none of its body");
        Checks.Equal(3, created.Sum(), "enumerated iterator");
        Checks.Equal(101, Started, "iterator body and finally ran once");
    }
}

public static class AsyncSequences
{
    public static async IAsyncEnumerable<int> Ticks(int n)
    {
        for (var i = 0; i < n; i++)
        {
            await Task.Yield();
            yield return i * 10;
        }
    }

    public static async Task Check()
    {
        var total = 0;
        await foreach (var tick in Ticks(3))
        {
            total += tick;
        }

        Checks.Equal(30, total, "async iterator");
    }
}

public sealed class Box<T>(T value)
{
    public T Value { get; } = value;

    public Box<TOut> Map<TOut>(Func<T, TOut> map) => new(map(Value));
}

public static class GenericCases
{
    public static T Pick<T>(T first, T second, bool takeFirst) => takeFirst ? first : second;

    public static int CountNonDefault<T>(params T[] items) => items.Count(i => !EqualityComparer<T>.Default.Equals(i, default!));

    public static void Check()
    {
        Checks.Equal(1, Pick(1, 2, true), "generic over int");
        Checks.Equal("b", Pick("a", "b", false), "generic over string");
        Checks.Equal(2, CountNonDefault(0, 3, 4), "generic over int with a lambda");
        Checks.Equal(1, CountNonDefault<string?>(null, "x"), "generic over string with a lambda");
        Checks.Equal("42", new Box<int>(42).Map(v => v.ToString()).Value, "generic type over int");
        Checks.Equal(3, new Box<string>("abc").Map(s => s.Length).Value, "generic type over string");
    }
}

public readonly struct Vector
{
    public Vector(int x, int y)
    {
        X = x;
        Y = y;
    }

    public Vector(int both) : this(both, both)
    {
    }

    public int X { get; }

    public int Y { get; }

    public int Dot(Vector other) => X * other.X + Y * other.Y;

    public static Vector operator +(Vector a, Vector b) => new(a.X + b.X, a.Y + b.Y);

    public static void Check()
    {
        var v = new Vector(2) + new Vector(1, 3);
        Checks.Equal(3, v.X, "struct ctor chaining and operator");
        Checks.Equal(29, v.Dot(new Vector(3, 4)), "struct method");
    }
}

public class Chained
{
    public readonly List<string> Steps = [];

    public Chained() : this("default")
    {
        Steps.Add("parameterless");
    }

    public Chained(string name)
    {
        Steps.Add("named " + name);
    }

    public static void Check()
    {
        var chained = new Derived();
        Checks.Equal("named default|parameterless|derived", string.Join('|', chained.Steps), "this/base constructor chain order");
    }

    public sealed class Derived : Chained
    {
        public Derived()
        {
            Steps.Add("derived");
        }
    }
}

public static class Registry
{
    public static readonly Dictionary<string, int> Codes;

    static Registry()
    {
        Codes = new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 };
    }

    public static void Check() => Checks.Equal(2, Codes["b"], "static constructor ran");
}

public interface IGreeter
{
    string Name { get; }

    string Greet() => "hello " + Name;
}

public sealed class Plain : IGreeter
{
    public string Name => "plain";
}

public sealed class Custom : IGreeter
{
    public string Name => "custom";

    public string Greet() => "hi " + Name;
}

public static class Greeters
{
    public static void Check()
    {
        Checks.Equal("hello plain", ((IGreeter)new Plain()).Greet(), "default interface method");
        Checks.Equal("hi custom", ((IGreeter)new Custom()).Greet(), "implemented interface method");
    }
}

public sealed record Point(int X, int Y)
{
    public int Manhattan => Math.Abs(X) + Math.Abs(Y);

    public static void Check()
    {
        var p = new Point(3, -4) with { Y = 4 };
        Checks.Equal(7, p.Manhattan, "record positional ctor and with");
        Checks.Equal(new Point(3, 4), p, "record equality");
    }
}

public static class Errors
{
    // The try starts at the method's first instruction: the probe must go before it, outside.
    public static int TryAtStart(string text)
    {
        try
        {
            return int.Parse(text);
        }
        catch (FormatException) when (text.Length > 0)
        {
            return -1;
        }
        catch (FormatException)
        {
            return -2;
        }
        finally
        {
            Cleanups++;
        }
    }

    public static int Cleanups;

    // A loop whose back edge goes to the method's first instruction.
    public static int LoopAtStart(int n)
    {
        do
        {
            n--;
        }
        while (n > 0);

        return n;
    }

    public static void Check()
    {
        Cleanups = 0;
        Checks.Equal(12, TryAtStart("12"), "try at start, no exception");
        Checks.Equal(-1, TryAtStart("x"), "exception filter true");
        Checks.Equal(-2, TryAtStart(""), "exception filter false");
        Checks.Equal(3, Cleanups, "finally ran each time");
        Checks.Equal(0, LoopAtStart(5), "branch back to the first instruction");
    }
}

public static class Recursion
{
    // Deep enough to overflow the stack without tail calls; F# would emit `tail.`, C# does not,
    // so this pins the shape the JIT may turn into a loop or a fast tail call.
    public static long SumTo(long n, long accumulator) => n == 0 ? accumulator : SumTo(n - 1, accumulator + n);

    public static void Check() => Checks.Equal(5050L, SumTo(100, 0), "tail-position recursion");
}

public static class Hot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Twice(int x) => x * 2;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static long Loop(int n)
    {
        long total = 0;
        for (var i = 0; i < n; i++)
        {
            total += Twice(i);
        }

        return total;
    }

    public static void Check() => Checks.Equal(9900L, Loop(100), "aggressive inlining inside an aggressive optimization loop");
}

public static class Closures
{
    public static int Apply(int seed)
    {
        var offset = seed + 1;
        Func<int, int> add = x => x + offset;
        return Square(add(seed));

        static int Square(int v) => v * v;
    }

    public static void Check() => Checks.Equal(49, Apply(3), "lambda capturing a local and a static local function");
}

public static class Excluded
{
    [ExcludeFromCodeCoverage]
    public static int Hidden(int x)
    {
        Func<int, int> twice = v => v * 2;
        return twice(x);
    }

    public static void Check() => Checks.Equal(8, Hidden(4), "excluded code still runs");
}
