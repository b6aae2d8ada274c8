using System.Diagnostics.CodeAnalysis;
using Sealights.Coverage.Metadata;

namespace Sealights.Coverage;

/// <summary>
/// The source methods of one assembly, read from its metadata and portable PDB: what the
/// build map lists, and the MethodDef-token lookup the agent uses for each method-hit event.
/// Holds only strings and numbers; the files are closed once <see cref="Read"/> returns.
/// </summary>
public sealed class SourceMethodCatalog
{
    private readonly Dictionary<int, MethodIdentity> _byToken;

    private SourceMethodCatalog(string assemblyPath, string assemblyName, Guid mvid, SymbolSource symbols, IReadOnlyList<SourceMethod> methods)
    {
        AssemblyPath = assemblyPath;
        AssemblyName = assemblyName;
        Mvid = mvid;
        Symbols = symbols;
        Methods = methods;
        _byToken = new Dictionary<int, MethodIdentity>();
        foreach (var method in methods)
        {
            foreach (var token in method.MethodTokens)
            {
                _byToken[token] = method.Identity;
            }
        }
    }

    /// <summary>The file the catalog was read from.</summary>
    public string AssemblyPath { get; }

    /// <summary>The assembly's simple name, the first part of every id.</summary>
    public string AssemblyName { get; }

    /// <summary>The module version id: tells which build of the assembly this is.</summary>
    public Guid Mvid { get; }

    /// <summary>Where the portable PDB came from; <see cref="SymbolSource.None"/> means no source methods.</summary>
    public SymbolSource Symbols { get; }

    /// <summary>False when the assembly has no matching portable PDB: nothing to map, the agent skips it.</summary>
    public bool HasSymbols => Symbols != SymbolSource.None;

    /// <summary>The source methods, sorted by id (ordinal).</summary>
    public IReadOnlyList<SourceMethod> Methods { get; }

    /// <summary>
    /// Reads <paramref name="assemblyPath"/> and its portable PDB (next to it or embedded).
    /// An assembly without one is returned with <see cref="HasSymbols"/> false and no methods.
    /// </summary>
    /// <param name="assemblyPath">Path to a managed assembly.</param>
    /// <exception cref="AssemblyReadException">The file is missing, not managed, or malformed.</exception>
    public static SourceMethodCatalog Read(string assemblyPath)
    {
        using var image = AssemblyImage.Open(assemblyPath);
        try
        {
            var metadata = image.Metadata;
            var methods = image.Pdb is null ? Array.Empty<SourceMethod>() : SourceMethodCollector.Collect(metadata, image.Pdb);
            return new SourceMethodCatalog(
                assemblyPath,
                AssemblyNames.Of(metadata),
                metadata.GetGuid(metadata.GetModuleDefinition().Mvid),
                image.Symbols,
                methods);
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or ArgumentException)
        {
            // SRM reads lazily: malformed tables or signatures only show up while walking them.
            throw new AssemblyReadException(assemblyPath, $"malformed metadata or PDB ({e.Message})", e);
        }
    }

    /// <summary>
    /// The identity a method-hit event counts for, by the MethodDef token the runtime reported
    /// (a MoveNext token yields its async/iterator kickoff method). False for methods that are
    /// not source methods: compiler plumbing, or any method when there is no PDB.
    /// </summary>
    /// <param name="methodDefToken">A MethodDef token (0x06xxxxxx) of this module.</param>
    /// <param name="identity">The source method's identity.</param>
    public bool TryResolve(int methodDefToken, [NotNullWhen(true)] out MethodIdentity? identity) =>
        _byToken.TryGetValue(methodDefToken, out identity);
}
