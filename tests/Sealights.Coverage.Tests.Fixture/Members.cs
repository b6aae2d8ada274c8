namespace Fixture;

// Less common shapes: iterator with finally (its code moves into a helper of the state
// machine), async local function, nested lambdas, lambda in an accessor, explicit interface
// implementation, pointer/in/params parameters, a field-like event (its accessors are generated).
public sealed class Resource : IDisposable
{
    private readonly List<int> _items = new() { 1, 2, 3 };

    public int Count => _items.Count;

    public Func<int, int> Doubler
    {
        get { return x => x * 2; }
    }

    public IEnumerable<int> Guarded()
    {
        try
        {
            yield return _items[0];
        }
        finally
        {
            _items.Clear();
        }
    }

    public Task<int> WithAsyncLocal(int value)
    {
        return Later(value);

        static async Task<int> Later(int x)
        {
            await Task.Yield();
            return x + 1;
        }
    }

    public int Nested(int seed)
    {
        Func<int, Func<int, int>> outer = a => b => a + b + seed;
        return outer(1)(2);
    }

    public unsafe int Pointers(int* first, in int second, params string[] rest)
    {
        return *first + second + rest.Length;
    }

    public event EventHandler? Changed;

    void IDisposable.Dispose()
    {
        _items.Clear();
        Changed?.Invoke(this, EventArgs.Empty);
    }
}
