using Sealights.Lambda.Emulator.Processes;

namespace Sealights.Lambda.Emulator.Environment;

/// <summary>
/// One initialised environment: its runtime, extensions and measurements. A reset retires it
/// and the next invoke builds a new one; events from a retired sandbox's processes are ignored.
/// </summary>
internal sealed class Sandbox
{
    public Sandbox(int generation, long initStartTimestamp)
    {
        Generation = generation;
        InitStartTimestamp = initStartTimestamp;
    }

    public int Generation { get; }

    public long InitStartTimestamp { get; }

    /// <summary>Init finished: the runtime and every extension called next.</summary>
    public bool InitCompleted { get; set; }

    /// <summary>Torn down (or being torn down): process exits are expected, not failures.</summary>
    public bool Retired { get; set; }

    public ManagedProcess? Runtime { get; set; }

    public NextSlot<Invocation> RuntimeNext { get; } = new();

    public List<ExtensionProcess> ExtensionProcesses { get; } = [];

    public List<ExtensionAgent> Agents { get; } = [];

    /// <summary>Highest sum of VmHWM seen, in KiB (see ProcessTree.SumPeakResidentKb).</summary>
    public long PeakMemoryKb { get; set; }

    public bool AllExtensionProcessesRegistered => ExtensionProcesses.All(e => e.Agent is not null);

    public IEnumerable<ExtensionAgent> InvokeSubscribers => Agents.Where(a => a.SubscribedToInvoke);
}

/// <summary>An executable from the extensions directory that we started.</summary>
internal sealed class ExtensionProcess
{
    public ExtensionProcess(string name, string path)
    {
        Name = name;
        Path = path;
    }

    /// <summary>The file name: the name it must register with to be an external extension.</summary>
    public string Name { get; }

    public string Path { get; }

    public ManagedProcess? Process { get; set; }

    public ExtensionAgent? Agent { get; set; }
}

/// <summary>A registered extension, external (its own process) or internal (inside the runtime).</summary>
internal sealed class ExtensionAgent
{
    public ExtensionAgent(string name, bool isExternal, IReadOnlyList<string> events, ExtensionProcess? process)
    {
        Name = name;
        IsExternal = isExternal;
        Events = events;
        Process = process;
    }

    public string Id { get; } = Guid.NewGuid().ToString();

    public string Name { get; }

    public bool IsExternal { get; }

    public IReadOnlyList<string> Events { get; }

    public ExtensionProcess? Process { get; }

    public bool SubscribedToInvoke => Events.Contains("INVOKE");

    public bool SubscribedToShutdown => Events.Contains("SHUTDOWN");

    public NextSlot<ExtensionEvent> Next { get; } = new();

    /// <summary>SHUTDOWN was sent: from now on its exit is expected.</summary>
    public bool ShutdownSent { get; set; }
}

/// <summary>A serialized Extensions API event and its Lambda-Extension-Event-Identifier.</summary>
internal sealed record ExtensionEvent(string EventId, byte[] Body, string EventType);
