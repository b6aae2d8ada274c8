namespace Fixture;

// Plain, static and instance methods, overloads, a generic method, a constructor pair and a
// property with a body next to an auto-property.
public class Calculator
{
    private int _scale;

    static Calculator()
    {
        Default = new Calculator(1);
    }

    public Calculator(int scale)
    {
        _scale = scale;
    }

    public static Calculator Default { get; private set; }

    public int Scale
    {
        get { return _scale; }
        set { _scale = value < 1 ? 1 : value; }
    }

    public string Label { get; set; } = "calc";

    public int Add(int a, int b)
    {
        return (a + b) * _scale;
    }

    public static int Twice(int value)
    {
        return value * 2;
    }

    public int Describe(int value)
    {
        return value;
    }

    public int Describe(string value)
    {
        return value.Length;
    }

    public int Describe(List<string> values)
    {
        return values.Count;
    }

    public T Echo<T>(T value)
    {
        return value;
    }

    public int Shape(int[] flat, int[,] grid, ref int counter, out string text, Dictionary<string, List<int?>> map)
    {
        counter++;
        text = flat.Length.ToString();
        return grid.Length + map.Count;
    }
}
