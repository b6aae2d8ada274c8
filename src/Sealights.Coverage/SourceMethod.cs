namespace Sealights.Coverage;

/// <summary>One method of the application's source, as the build map lists it.</summary>
public sealed class SourceMethod
{
    internal SourceMethod(MethodIdentity identity, IReadOnlyList<int> methodTokens, string sourceFile, int startLine, int endLine)
    {
        Identity = identity;
        MethodTokens = methodTokens;
        SourceFile = sourceFile;
        StartLine = startLine;
        EndLine = endLine;
    }

    /// <summary>The method's identity; <see cref="MethodIdentity.Id"/> is its unique id.</summary>
    public MethodIdentity Identity { get; }

    /// <summary>
    /// Every MethodDef token whose execution counts as this method, ascending: the method
    /// itself, and for async/iterator methods also the state machine's MoveNext.
    /// </summary>
    public IReadOnlyList<int> MethodTokens { get; }

    /// <summary>The source document as recorded in the PDB (a build-machine path).</summary>
    public string SourceFile { get; }

    /// <summary>First line of the method's code in <see cref="SourceFile"/> (1-based).</summary>
    public int StartLine { get; }

    /// <summary>Last line of the method's code in <see cref="SourceFile"/> (1-based).</summary>
    public int EndLine { get; }
}
