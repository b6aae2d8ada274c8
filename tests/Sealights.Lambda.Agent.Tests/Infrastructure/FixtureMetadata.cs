using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Sealights.Lambda.Agent.Tests.Infrastructure;

/// <summary>
/// MethodDef tokens of the fixture read straight from its metadata tables, by type and method
/// name: what a runtime event carries, found without the catalog the agent maps them with.
/// </summary>
internal static class FixtureMetadata
{
    /// <summary>The token of the one method called <paramref name="method"/> on the top-level type <paramref name="type"/> (Namespace.Name).</summary>
    public static int Token(string assemblyPath, string type, string method) =>
        Read(assemblyPath, reader => Single(reader, FindType(reader, type, declaringType: null), method));

    /// <summary>The MoveNext of the state machine the compiler nested in <paramref name="type"/> for <paramref name="kickoff"/> (&lt;Kickoff&gt;d__N).</summary>
    public static int StateMachineMoveNext(string assemblyPath, string type, string kickoff) =>
        Read(assemblyPath, reader =>
        {
            var outer = FindType(reader, type, declaringType: null);
            var machine = reader.GetTypeDefinition(outer).GetNestedTypes()
                .Single(t => reader.GetString(reader.GetTypeDefinition(t).Name).StartsWith($"<{kickoff}>d__", StringComparison.Ordinal));
            return Single(reader, machine, "MoveNext");
        });

    private static int Read(string assemblyPath, Func<MetadataReader, int> read)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        return read(pe.GetMetadataReader());
    }

    private static TypeDefinitionHandle FindType(MetadataReader reader, string fullName, TypeDefinitionHandle? declaringType) =>
        reader.TypeDefinitions.Single(handle =>
        {
            var definition = reader.GetTypeDefinition(handle);
            var name = reader.GetString(definition.Namespace) + "." + reader.GetString(definition.Name);
            return name == fullName && (declaringType is null) == definition.GetDeclaringType().IsNil;
        });

    private static int Single(MetadataReader reader, TypeDefinitionHandle type, string method) =>
        MetadataTokens.GetToken(reader.GetTypeDefinition(type).GetMethods().Single(m => reader.GetString(reader.GetMethodDefinition(m).Name) == method));
}
