using System.Reflection;
using Mono.Cecil;

namespace Sealights.Coverage.Instrumentation;

/// <summary>
/// The runtime library instrumented modules reference (<c>Sealights.Coverage.Probes.dll</c>): where
/// its file is, and its exact identity, read from the file so the reference's version, culture and
/// public key token are the ones the runtime will bind to.
/// </summary>
public sealed class ProbesAssembly
{
    /// <summary>The library's simple name, also its file name without <c>.dll</c>.</summary>
    public const string Name = "Sealights.Coverage.Probes";

    /// <summary>The library's file name.</summary>
    public const string FileName = Name + ".dll";

    internal const string RegistryNamespace = "Sealights.Coverage.Probes";
    internal const string RegistryType = "ProbeRegistry";
    internal const string RegisterMethod = "Register";

    private ProbesAssembly(string path, AssemblyName identity)
    {
        Path = path;
        Identity = identity;
    }

    /// <summary>The library file that travels with the instrumenter.</summary>
    public string Path { get; }

    /// <summary>Its assembly name as the file declares it.</summary>
    public AssemblyName Identity { get; }

    /// <summary>The version instrumented modules reference.</summary>
    public Version Version => Identity.Version ?? new Version(0, 0, 0, 0);

    /// <summary>The copy next to the instrumenter (the CLI's folder, a test's bin folder).</summary>
    /// <exception cref="FileNotFoundException">The library is not there: a broken installation.</exception>
    public static ProbesAssembly Default() => At(System.IO.Path.Combine(AppContext.BaseDirectory, FileName));

    /// <summary>The library at <paramref name="path"/>.</summary>
    public static ProbesAssembly At(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{FileName} is not at {path}: it must travel with the instrumenter", path);
        }

        return new ProbesAssembly(System.IO.Path.GetFullPath(path), AssemblyName.GetAssemblyName(path));
    }

    /// <summary>A reference to this library, for an instrumented module.</summary>
    internal AssemblyNameReference Reference()
    {
        return new AssemblyNameReference(Identity.Name, Version)
        {
            Culture = string.IsNullOrEmpty(Identity.CultureName) ? string.Empty : Identity.CultureName,
            PublicKeyToken = Identity.GetPublicKeyToken() ?? [],
        };
    }
}
