namespace Sealights.Coverage;

/// <summary>An assembly that is part of the application: managed, not framework, with a portable PDB.</summary>
/// <param name="Path">The assembly file.</param>
/// <param name="Name">The simple assembly name from its metadata.</param>
/// <param name="Mvid">The module version id of this build.</param>
/// <param name="Symbols">Where its portable PDB is.</param>
public sealed record ApplicationAssembly(string Path, string Name, Guid Mvid, SymbolSource Symbols);

/// <summary>Why a file in the application folder is not an application assembly.</summary>
public enum ExclusionReason
{
    /// <summary>Not a readable managed assembly (native library, garbage, malformed, unreadable).</summary>
    NotManagedAssembly,

    /// <summary>A framework, runtime or platform assembly (see <see cref="FrameworkAssemblyNames"/>).</summary>
    FrameworkAssembly,

    /// <summary>Listed in the folder's <c>*.deps.json</c> as an asset of a NuGet package or runtime pack, not of a project.</summary>
    PackageAssembly,

    /// <summary>No matching portable PDB, side-by-side or embedded: no source lines to map.</summary>
    NoSymbols,
}

/// <summary>A file that was looked at and left out, with the reason (for the CLI's report and the agent's log).</summary>
/// <param name="Path">The file.</param>
/// <param name="Reason">Why it is not part of the application.</param>
/// <param name="Detail">A human-readable explanation.</param>
public sealed record ExcludedFile(string Path, ExclusionReason Reason, string Detail);

/// <summary>The outcome of looking at a set of files.</summary>
/// <param name="Assemblies">The application assemblies, sorted by file path (ordinal).</param>
/// <param name="Excluded">The files left out, sorted by file path (ordinal).</param>
public sealed record ApplicationAssemblyScan(IReadOnlyList<ApplicationAssembly> Assemblies, IReadOnlyList<ExcludedFile> Excluded);
