using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Sealights.Coverage.Tests;

/// <summary>The fixture assembly built with the solution, read once for all tests.</summary>
internal static class Fixture
{
    public const string AssemblyName = "Sealights.Coverage.Tests.Fixture";

    public static string AssemblyPath { get; } = Path.Combine(AppContext.BaseDirectory, AssemblyName + ".dll");

    public static string PdbPath { get; } = Path.Combine(AppContext.BaseDirectory, AssemblyName + ".pdb");

    /// <summary>
    /// The fixture's catalog, read at each use (a few ms): a catalog cached for the whole run
    /// would be read once, under whichever mutant was active first, and hide every later mutant
    /// of the reader from the tests (mutation testing reuses the test process; tests/MUTATION.md).
    /// </summary>
    public static SourceMethodCatalog Catalog => SourceMethodCatalog.Read(AssemblyPath);

    /// <summary>The id of a fixture method, from the part after the assembly name.</summary>
    public static string Id(string typeAndMember) => AssemblyName + "|" + typeAndMember;

    /// <summary>
    /// The MethodDef token of <paramref name="method"/> in the type named <paramref name="type"/>;
    /// a trailing '*' matches any rest (compiler type names end in ordinals the tests should not pin).
    /// </summary>
    public static int Token(string type, string method)
    {
        using var pe = new PEReader(File.OpenRead(AssemblyPath));
        var reader = pe.GetMetadataReader();
        var found = new List<int>();
        foreach (var typeHandle in reader.TypeDefinitions)
        {
            var name = FullName(reader, typeHandle);
            var matches = type.EndsWith('*')
                ? name.StartsWith(type[..^1], StringComparison.Ordinal)
                : name == type;
            if (!matches)
            {
                continue;
            }

            foreach (var methodHandle in reader.GetTypeDefinition(typeHandle).GetMethods())
            {
                if (reader.GetString(reader.GetMethodDefinition(methodHandle).Name) == method)
                {
                    found.Add(MetadataTokens.GetToken(methodHandle));
                }
            }
        }

        return Assert.Single(found);
    }

    private static string FullName(MetadataReader reader, TypeDefinitionHandle handle)
    {
        var type = reader.GetTypeDefinition(handle);
        var declaring = type.GetDeclaringType();
        return declaring.IsNil
            ? reader.GetString(type.Namespace) + "." + reader.GetString(type.Name)
            : FullName(reader, declaring) + "+" + reader.GetString(type.Name);
    }
}
