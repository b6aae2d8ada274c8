namespace Sealights.Coverage;

/// <summary>
/// The file is not a readable managed assembly (missing, not a PE image, native, or with
/// malformed metadata or PDB). The one exception callers catch, so a bad file in the
/// function's folder never takes the agent or the CLI down.
/// </summary>
public sealed class AssemblyReadException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/>.</summary>
    /// <param name="path">The file that could not be read.</param>
    /// <param name="message">What was wrong with it.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public AssemblyReadException(string path, string message, Exception? innerException = null)
        : base($"{path}: {message}", innerException)
    {
        FilePath = path;
    }

    /// <summary>The file that could not be read.</summary>
    public string FilePath { get; }
}
