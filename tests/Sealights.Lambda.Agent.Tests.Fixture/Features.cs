using System.Runtime.CompilerServices;

namespace Fixture;

/// <summary>Every kind of method the agent must report, called once by <see cref="RunAll"/>.</summary>
public static class Features
{
    public static int Sink;

    public static void RunAll()
    {
        var calculator = new Calculator(3);
        Sink += calculator.Plain(4);
        Sink += Calculator.Static(5);
        calculator.Doubled = 7;
        Sink += calculator.Doubled;

        Sink += new Box<int>(1).Map(x => x + 1);
        Sink += new Box<string>("a").Map(s => s.Length);
        Sink += Generic.Echo(8) + Generic.Echo("b").Length;
        Sink += Generic.CountPoints([new Point(1, 2), new Point(3, 4)]);
        Sink += Generic.FindPoint([new Point(5, 6), new Point(7, 8)], new Point(7, 8));

        Sink += Asynchronous.ComputeAsync(2).GetAwaiter().GetResult();
        foreach (var n in Iterators.Numbers(3))
        {
            Sink += n;
        }

        Sink += Closures.WithLambda(5);
        Sink += Closures.WithCapturingLambda(6);
        Sink += Closures.WithLocalFunction(7);
        Sink += Closures.WithStaticLocalFunction(8);

        Sink += Inlining.CallsSmallHelper(9);
        Sink += Inlining.Hot(10);

        Shape shape = new Square(2);
        Sink += shape.Area();
        Sink += Counter.Next();
        Sink += Loops.ManyCalls();
        Sink += Loops.LongLoop();
    }
}

/// <summary>Plain instance members, a constructor and a property with bodies.</summary>
public sealed class Calculator
{
    private int _value;

    public Calculator(int value)
    {
        _value = value;
    }

    public int Doubled
    {
        get { return _value * 2; }
        set { _value = value / 2; }
    }

    public int Plain(int x) => x * _value;

    public static int Static(int x) => x + 1;

    public int NeverCalledInstance(int x) => x - _value;

    public static int NeverCalledStatic(int x) => x * x * x;
}

/// <summary>A generic type (shared code for references, own code for value types).</summary>
public sealed class Box<T>
{
    private readonly T _item;

    public Box(T item)
    {
        _item = item;
    }

    public int Map(Func<T, int> map) => map(_item);

    public T NeverCalledUnwrap() => _item;
}

/// <summary>Generic methods, and a framework generic instantiated over an application struct.</summary>
public static class Generic
{
    public static T Echo<T>(T value) => value;

    public static int CountPoints(List<Point> points)
    {
        var set = new HashSet<Point>(points);
        var sum = 0;
        foreach (var p in set)
        {
            sum += p.Sum();
        }

        return sum;
    }

    /// <summary>Framework generic methods instantiated over an application struct.</summary>
    public static int FindPoint(Point[] points, Point wanted) =>
        Array.IndexOf(points, wanted) + points.Select(p => p.X).First() + points.First().Y;

    public static T NeverCalledFirst<T>(IEnumerable<T> items) => items.First();
}

/// <summary>An application struct, so framework generics get instantiations over app types.</summary>
public readonly record struct Point(int X, int Y)
{
    public int Sum() => X + Y;

    public int NeverCalledProduct() => X * Y;
}

/// <summary>An async method: the state machine's MoveNext counts as the kickoff method.</summary>
public static class Asynchronous
{
    public static async Task<int> ComputeAsync(int x)
    {
        await Task.Yield();
        return x * 10;
    }

    public static async Task<int> NeverCalledAsync(int x)
    {
        await Task.Delay(x);
        return x;
    }
}

/// <summary>An iterator: its state machine counts as the kickoff method.</summary>
public static class Iterators
{
    public static IEnumerable<int> Numbers(int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return i;
        }
    }

    public static IEnumerable<int> NeverCalledNumbers()
    {
        yield return 1;
    }
}

/// <summary>Lambdas and local functions, each an id of its own named after its container.</summary>
public static class Closures
{
    public static int WithLambda(int x)
    {
        Func<int, int> twice = y => y * 2;
        return twice(x);
    }

    public static int WithCapturingLambda(int x)
    {
        var offset = x + 1;
        Func<int, int> add = y => y + offset;
        return add(x);
    }

    public static int WithLocalFunction(int x)
    {
        return Square(x) + 1;

        int Square(int y) => y * y + x;
    }

    public static int WithStaticLocalFunction(int x)
    {
        return Cube(x);

        static int Cube(int y) => y * y * y;
    }

    public static int NeverCalledWithLambda(int x)
    {
        Func<int, int> never = y => y - 1;
        return never(x);
    }
}

/// <summary>
/// Inlining traps: a small helper called from tier-0 code (not inlined), and a helper called from
/// an [AggressiveOptimization] method, which is jitted fully optimised at once and would inline it.
/// </summary>
public static class Inlining
{
    public static int CallsSmallHelper(int x) => SmallHelper(x) + 1;

    private static int SmallHelper(int x) => x + 2;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Hot(int x) => HotHelper(x) * 2;

    private static int HotHelper(int x) => x + 3;

    private static int NeverCalledHelper(int x) => x + 4;
}

/// <summary>Virtual dispatch: the override is what runs.</summary>
public abstract class Shape
{
    public abstract int Area();
}

/// <summary>An override with a primary constructor.</summary>
public sealed class Square(int side) : Shape
{
    public override int Area() => side * side;
}

/// <summary>A static constructor (field initializer).</summary>
public static class Counter
{
    private static int _next = Start();

    public static int Next() => ++_next;

    private static int Start() => 41;
}

/// <summary>Tier-1 rejit and OSR: the same method reported again must be counted once.</summary>
public static class Loops
{
    public static int ManyCalls()
    {
        var sum = 0;
        for (var i = 0; i < 500; i++)
        {
            sum += Tiny(i);
        }

        return sum;
    }

    private static int Tiny(int i) => i & 3;

    public static int LongLoop()
    {
        // Long enough for on-stack replacement of the tier-0 body.
        var sum = 0L;
        for (var i = 0; i < 2_000_000; i++)
        {
            sum += i % 7;
        }

        return (int)(sum & 0xff);
    }
}

/// <summary>Work done only by the "late" scenario: the rotation test expects it in the second flush only.</summary>
public static class LateWork
{
    public static void Run()
    {
        Features.Sink += Step(1) + new LateObject().Value;
    }

    private static int Step(int x) => x * 7;

    private sealed class LateObject
    {
        public int Value => 42;
    }
}

/// <summary>A type nothing calls.</summary>
public static class NeverCalled
{
    public static int Method() => 1;

    public static int WithLocal()
    {
        return Local();

        static int Local() => 2;
    }
}
