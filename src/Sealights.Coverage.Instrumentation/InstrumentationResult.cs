namespace Sealights.Coverage.Instrumentation;

/// <summary>What happened to one assembly.</summary>
public enum InstrumentationOutcome
{
    /// <summary>Probes were written.</summary>
    Instrumented,

    /// <summary>The module already carries the marker type: left as it is (not a failure).</summary>
    AlreadyInstrumented,

    /// <summary>Nothing to probe (no source methods, a reference assembly, excluded): left as it is.</summary>
    Skipped,

    /// <summary>The file cannot be instrumented (ReadyToRun, mixed mode, unreadable): left as it is, and the run fails.</summary>
    Refused,
}

/// <summary>One assembly's outcome.</summary>
/// <param name="File">The input file.</param>
/// <param name="AssemblyName">Its simple assembly name, when it could be read.</param>
/// <param name="Outcome">What happened.</param>
/// <param name="Reason">Why it was skipped or refused; null when instrumented.</param>
/// <param name="Methods">MethodDef rows of the instrumented module (the hit array's length); 0 when not instrumented.</param>
/// <param name="Probes">Methods that carry a probe.</param>
/// <param name="Mvid">The instrumented module's version id.</param>
/// <param name="OutputFile">Where the instrumented assembly was written (the input itself in place).</param>
public sealed record InstrumentationResult(
    string File,
    string? AssemblyName,
    InstrumentationOutcome Outcome,
    string? Reason,
    int Methods = 0,
    int Probes = 0,
    Guid Mvid = default,
    string? OutputFile = null)
{
    /// <summary>The one line the CLI prints for it.</summary>
    public string Describe() => Outcome switch
    {
        InstrumentationOutcome.Instrumented => $"{Path.GetFileName(File)}: instrumented {Probes} of {Methods} methods",
        InstrumentationOutcome.AlreadyInstrumented => $"{Path.GetFileName(File)}: already instrumented ({Probes} of {Methods} methods), left as it is",
        InstrumentationOutcome.Skipped => $"{Path.GetFileName(File)}: skipped, {Reason}",
        _ => $"{Path.GetFileName(File)}: refused, {Reason}",
    };
}

/// <summary>An input that cannot be instrumented at all (the Probes library missing, a folder the rules refuse).</summary>
public sealed class InstrumentationException(string message) : Exception(message);
