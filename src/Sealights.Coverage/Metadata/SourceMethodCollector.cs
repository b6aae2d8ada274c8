using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;

namespace Sealights.Coverage.Metadata;

/// <summary>
/// Walks every MethodDef with an IL body and source lines, and groups them by the source
/// method they belong to (a kickoff and its MoveNext become one entry).
/// </summary>
internal static class SourceMethodCollector
{
    public static IReadOnlyList<SourceMethod> Collect(MetadataReader metadata, MetadataReader pdb)
    {
        var resolver = new MethodIdentityResolver(metadata, new StateMachineKickoffs(metadata, pdb));
        var groups = new Dictionary<string, Group>(StringComparer.Ordinal);
        foreach (var handle in metadata.MethodDefinitions)
        {
            if (metadata.GetMethodDefinition(handle).RelativeVirtualAddress == 0
                || !SourceLines.TryRead(pdb, handle, out var lines)
                || !resolver.TryResolve(handle, out var identity, out var kickoff))
            {
                continue;
            }

            if (!groups.TryGetValue(identity.Id, out var group))
            {
                group = new Group(identity, lines);
                groups.Add(identity.Id, group);
            }
            else
            {
                // Two bodies of one source method (MoveNext and a finally helper), or two
                // methods whose signatures differ only where C# cannot overload (modifiers).
                group.Lines = group.Lines.Merge(lines);
            }

            group.Tokens.Add(MetadataTokens.GetToken(handle));
            if (!kickoff.IsNil)
            {
                group.Tokens.Add(MetadataTokens.GetToken(kickoff));
            }
        }

        var methods = new List<SourceMethod>(groups.Count);
        foreach (var group in groups.Values)
        {
            var file = pdb.GetString(pdb.GetDocument(group.Lines.Document).Name);
            methods.Add(new SourceMethod(group.Identity, group.Tokens.ToArray(), file, group.Lines.StartLine, group.Lines.EndLine));
        }

        methods.Sort((a, b) => string.CompareOrdinal(a.Identity.Id, b.Identity.Id));
        return methods;
    }

    private sealed class Group(MethodIdentity identity, SourceLines lines)
    {
        public MethodIdentity Identity { get; } = identity;

        public SourceLines Lines { get; set; } = lines;

        public SortedSet<int> Tokens { get; } = new();
    }
}
