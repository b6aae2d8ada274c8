namespace Sealights.Coverage.BuildMaps;

/// <summary>The input is not a build map this library can read (bad JSON, missing fields, other format version).</summary>
public sealed class BuildMapFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong with the input.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public BuildMapFormatException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
