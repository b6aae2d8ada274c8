namespace Sealights.Coverage;

/// <summary>
/// Names of assemblies that are never "the application" even when they ship a PDB: the .NET
/// runtime and framework, and the Lambda runtime support and AWS SDK packages every function
/// carries. Checked by name alone, so the agent can skip such modules without opening them.
/// </summary>
public static class FrameworkAssemblyNames
{
    private static readonly string[] ExactNames = ["mscorlib", "netstandard", "System", "WindowsBase"];

    private static readonly string[] Prefixes = ["System.", "Microsoft.", "Amazon.Lambda.", "AWSSDK."];

    /// <summary>True for a framework, runtime or platform assembly name (case-insensitive, as assembly names are).</summary>
    /// <param name="assemblyName">A simple assembly name, e.g. <c>System.Text.Json</c>.</param>
    public static bool IsFramework(string assemblyName)
    {
        foreach (var name in ExactNames)
        {
            if (string.Equals(assemblyName, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        foreach (var prefix in Prefixes)
        {
            if (assemblyName.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
