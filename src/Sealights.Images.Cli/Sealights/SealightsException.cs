namespace Sealights.Images.Cli.Sealights;

/// <summary>A Sealights backend call failed; the message is one actionable line (never the token).</summary>
public sealed class SealightsException(string message, bool refused = false, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The backend answered, but refuses the operation (e.g. a build map already submitted), as opposed to an error.</summary>
    public bool Refused { get; } = refused;
}
