namespace Sealights.Coverage.BuildMaps;

/// <summary>
/// Every source method of an application build, as <c>sl-images scan</c> writes it; the ids
/// are the ones the agent ships in footprints.
/// </summary>
/// <param name="FormatVersion">Always <see cref="CurrentFormatVersion"/> for maps this library writes.</param>
/// <param name="GeneratedBy">The tool and version that wrote the map, e.g. <c>sl-images 0.1.0</c>.</param>
/// <param name="Assemblies">The application assemblies, sorted by name then file.</param>
public sealed record BuildMap(string FormatVersion, string GeneratedBy, IReadOnlyList<BuildMapAssembly> Assemblies)
{
    /// <summary>The format version this library reads and writes.</summary>
    public const string CurrentFormatVersion = "1";

    /// <summary>Builds a map from catalogs, in the deterministic order the format requires.</summary>
    /// <param name="generatedBy">The tool and version writing the map.</param>
    /// <param name="catalogs">One catalog per application assembly.</param>
    public static BuildMap Create(string generatedBy, IEnumerable<SourceMethodCatalog> catalogs)
    {
        var assemblies = catalogs.Select(catalog => new BuildMapAssembly(
            catalog.AssemblyName,
            catalog.Mvid,
            Path.GetFileName(catalog.AssemblyPath),
            catalog.Methods.Select(m => new BuildMapMethod(m.Identity.Id, m.SourceFile, m.StartLine, m.EndLine)).ToList()));
        return new BuildMap(CurrentFormatVersion, generatedBy, assemblies.ToList()).Sorted();
    }

    /// <summary>The same map with assemblies ordered by name then file and methods by id (ordinal).</summary>
    public BuildMap Sorted() => this with
    {
        Assemblies = Assemblies
            .OrderBy(a => a.Name, StringComparer.Ordinal)
            .ThenBy(a => a.File, StringComparer.Ordinal)
            .Select(a => a with { Methods = a.Methods.OrderBy(m => m.Id, StringComparer.Ordinal).ToList() })
            .ToList(),
    };
}

/// <summary>One application assembly of a <see cref="BuildMap"/>.</summary>
/// <param name="Name">The simple assembly name (first part of its methods' ids).</param>
/// <param name="Mvid">The module version id of the scanned build.</param>
/// <param name="File">The assembly's file name in the application folder.</param>
/// <param name="Methods">Its source methods, sorted by id.</param>
public sealed record BuildMapAssembly(string Name, Guid Mvid, string File, IReadOnlyList<BuildMapMethod> Methods);

/// <summary>One source method of a <see cref="BuildMapAssembly"/>.</summary>
/// <param name="Id">The method's unique id (<see cref="MethodIdentity.Id"/>).</param>
/// <param name="File">The source document as recorded in the PDB.</param>
/// <param name="StartLine">First line of the method's code (1-based).</param>
/// <param name="EndLine">Last line of the method's code (1-based).</param>
public sealed record BuildMapMethod(string Id, string File, int StartLine, int EndLine);
