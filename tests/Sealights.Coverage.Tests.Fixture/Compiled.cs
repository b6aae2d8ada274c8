namespace Fixture;

// Methods the compiler rewrites: state machines, lambdas, local functions.
public class Workflow
{
    private int _offset = 3;

    public async Task<int> RunAsync(int delay)
    {
        await Task.Delay(delay);
        return delay + 1;
    }

    public IEnumerable<int> Numbers(int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return i;
        }
    }

    public int StaticLambda(IEnumerable<int> values)
    {
        return values.Select(v => v * 2).Sum();
    }

    public int ClosureLambda(IEnumerable<int> values, int factor)
    {
        return values.Select(v => v * factor).Sum();
    }

    public int ThisLambda(IEnumerable<int> values)
    {
        return values.Select(v => v + _offset).Sum();
    }

    public int WithLocalFunction(int value)
    {
        return Square(value) + 1;

        static int Square(int x)
        {
            return x * x;
        }
    }

    public int WithLocalFunction(string value)
    {
        return Square(value.Length);

        static int Square(int x)
        {
            return x * x * 1;
        }
    }

    public async Task<int> AsyncWithLambda(int value)
    {
        await Task.Yield();
        Func<int, int> add = x => x + value;
        return add(1);
    }
}
