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

        // Issue 15's extensions: what probes must get right where first-execution events cannot.
        Sink += Iterators.CreateOnly(4);
        Sink += AsyncIterators.SumAsync(3).GetAwaiter().GetResult();
        Sink += Inlining.CallsForcedInline(11);
        Sink += Loops.OptimizedLoop(1_000);
        Sink += WithStaticConstructor.Value;
        IGreeter greeter = new PlainGreeter();
        Sink += greeter.Greet().Length;
        Sink += Generic.Largest([3, 9, 4]) + Generic.Largest(["pear", "apple"]).Length;
        var accumulator = new Accumulator();
        accumulator.Add(5);
        accumulator.Add(6);
        Sink += accumulator.Total;
        Sink += new Person("Ada", 36).Age;
        Sink += Callbacks.SortDescending([2, 7, 1]) + Callbacks.SortByLength(["ccc", "a", "bb"]) + Callbacks.CountEven([1, 2, 3, 4]);
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

    /// <summary>One generic method over a value type and a reference type (constrained calls).</summary>
    public static T Largest<T>(T[] values)
        where T : IComparable<T>
    {
        var largest = values[0];
        foreach (var value in values)
        {
            if (value.CompareTo(largest) > 0)
            {
                largest = value;
            }
        }

        return largest;
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

    /// <summary>Creates an iterator and never enumerates it.</summary>
    public static int CreateOnly(int count)
    {
        var never = NeverEnumerated(count);
        return never is null ? 0 : 1;
    }

    /// <summary>
    /// Called, never enumerated: its body (the state machine's MoveNext) never runs, so it must not
    /// count. First-execution events report it (the kickoff stub is compiled): a known false
    /// positive of that mode (<c>ExpectedMethods.FirstExecutionFalsePositives</c>).
    /// </summary>
    public static IEnumerable<int> NeverEnumerated(int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return i * 3;
        }
    }
}

/// <summary>An async iterator, enumerated with await foreach.</summary>
public static class AsyncIterators
{
    public static async Task<int> SumAsync(int count)
    {
        var sum = 0;
        await foreach (var n in CountAsync(count))
        {
            sum += n;
        }

        return sum;
    }

    private static async IAsyncEnumerable<int> CountAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return i;
        }
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

    public static int CallsForcedInline(int x) => ForcedInline(x) + ForcedInline(x + 1);

    /// <summary>Inlined into its caller whenever the JIT (or crossgen) can: it must still count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ForcedInline(int x) => x * 5;
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

    /// <summary>A loop jitted fully optimised at once (no tier 0), with a small callee in it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int OptimizedLoop(int count)
    {
        var sum = 0;
        for (var i = 0; i < count; i++)
        {
            sum += Step(i);
        }

        return sum;
    }

    private static int Step(int i) => (i ^ 5) & 7;

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

/// <summary>An explicit static constructor (not beforefieldinit).</summary>
public static class WithStaticConstructor
{
    public static readonly int Value;

    static WithStaticConstructor()
    {
        Value = Environment.ProcessorCount > 0 ? 12 : 13;
    }
}

/// <summary>A default interface method, run through an implementation that does not override it.</summary>
public interface IGreeter
{
    string Name { get; }

    string Greet() => "hello " + Name;
}

public sealed class PlainGreeter : IGreeter
{
    public string Name => "fixture";
}

/// <summary>A mutable struct's instance methods (the receiver is a managed pointer).</summary>
public struct Accumulator
{
    private int _total;

    public readonly int Total => _total;

    public void Add(int x)
    {
        _total += x;
    }
}

/// <summary>A record with a positional constructor.</summary>
public sealed record Person(string Name, int Age);

/// <summary>Framework code calling back into the application: List.Sort with a Comparison, LINQ with a lambda.</summary>
public static class Callbacks
{
    public static int SortDescending(List<int> values)
    {
        values.Sort((a, b) => b.CompareTo(a));
        return values[0];
    }

    public static int SortByLength(List<string> values)
    {
        values.Sort(CompareByLength);
        return values[0].Length;
    }

    public static int CountEven(int[] values) => values.Count(v => v % 2 == 0);

    private static int CompareByLength(string a, string b) => a.Length.CompareTo(b.Length);
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
