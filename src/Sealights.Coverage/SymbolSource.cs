namespace Sealights.Coverage;

/// <summary>Where an assembly's portable PDB was found.</summary>
public enum SymbolSource
{
    /// <summary>No matching portable PDB: the assembly has no source methods to map (the agent skips it).</summary>
    None,

    /// <summary>A matching <c>.pdb</c> file next to the assembly.</summary>
    SideBySide,

    /// <summary>The PDB is embedded in the assembly (<c>DebugType=embedded</c>).</summary>
    Embedded,
}
