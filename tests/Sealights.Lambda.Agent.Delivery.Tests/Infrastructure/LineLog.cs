using System.Text;
using Sealights.Lambda.Agent.Configuration;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;

/// <summary>An <see cref="AgentLog"/> (debug level) whose lines the test can read, echoed to the test output.</summary>
public sealed class LineLog : TextWriter
{
    private readonly object _gate = new();
    private readonly List<string> _lines = [];
    private readonly StringBuilder _partial = new();
    private readonly ITestOutputHelper? _output;

    public LineLog(ITestOutputHelper? output = null)
    {
        _output = output;
        Agent = new AgentLog(AgentLogLevel.Debug, this);
    }

    public AgentLog Agent { get; }

    public override Encoding Encoding => Encoding.UTF8;

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    public string Text => string.Join('\n', Lines);

    /// <summary>For <see cref="DeliveryOptions.TryCreate"/>'s plain line callback.</summary>
    public void Add(string line) => WriteLine(line);

    public int Count(string fragment) => Lines.Count(l => l.Contains(fragment, StringComparison.Ordinal));

    public override void Write(char value)
    {
        lock (_gate)
        {
            if (value == '\n')
            {
                Complete();
            }
            else
            {
                _partial.Append(value);
            }
        }
    }

    public override void WriteLine(string? value)
    {
        lock (_gate)
        {
            _partial.Append(value);
            Complete();
        }
    }

    private void Complete()
    {
        var line = _partial.ToString();
        _partial.Clear();
        _lines.Add(line);
        try
        {
            _output?.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test is over; a late background line is still kept in Lines.
        }
    }
}
