using System.Reflection.Metadata;

namespace Sealights.Coverage.Metadata;

/// <summary>
/// Maps every method of an async/iterator state machine type to the kickoff method the user
/// wrote. The portable PDB's StateMachineMethod table is authoritative (MoveNext → kickoff);
/// without a row, the kickoff is the sibling whose <c>[...StateMachine(typeof(X))]</c> names the
/// type, and last the sibling named like the type (<c>&lt;Name&gt;d__N</c>) when only one has that name.
/// </summary>
internal sealed class StateMachineKickoffs
{
    private readonly MetadataReader _metadata;
    private readonly Dictionary<TypeDefinitionHandle, MethodDefinitionHandle> _byStateMachineType = new();

    public StateMachineKickoffs(MetadataReader metadata, MetadataReader? pdb)
    {
        _metadata = metadata;
        if (pdb is null)
        {
            return;
        }

        foreach (var debugHandle in pdb.MethodDebugInformation)
        {
            var kickoff = pdb.GetMethodDebugInformation(debugHandle).GetStateMachineKickoffMethod();
            if (!kickoff.IsNil)
            {
                var moveNext = metadata.GetMethodDefinition(debugHandle.ToDefinitionHandle());
                _byStateMachineType[moveNext.GetDeclaringType()] = kickoff;
            }
        }
    }

    /// <summary>The kickoff method when <paramref name="method"/> belongs to a state machine type.</summary>
    public bool TryGetKickoff(MethodDefinitionHandle method, out MethodDefinitionHandle kickoff)
    {
        var type = _metadata.GetMethodDefinition(method).GetDeclaringType();
        if (!_byStateMachineType.TryGetValue(type, out kickoff))
        {
            // Remembered either way (nil for ordinary types): each type is looked at once.
            kickoff = FindWithoutPdbRow(type);
            _byStateMachineType[type] = kickoff;
        }

        return !kickoff.IsNil;
    }

    private MethodDefinitionHandle FindWithoutPdbRow(TypeDefinitionHandle type)
    {
        var typeName = _metadata.GetString(_metadata.GetTypeDefinition(type).Name);
        if (!CompilerGeneratedName.TryParse(typeName, out var name) || name.Kind != CompilerGeneratedKind.StateMachine)
        {
            return default;
        }

        var kickoff = FindByAttribute(type);
        return kickoff.IsNil ? FindByName(type, name.Container) : kickoff;
    }

    private MethodDefinitionHandle FindByAttribute(TypeDefinitionHandle stateMachineType)
    {
        var declaring = _metadata.GetTypeDefinition(stateMachineType).GetDeclaringType();
        if (declaring.IsNil)
        {
            return default;
        }

        var serializedName = TypeNames.Of(_metadata, stateMachineType);
        foreach (var candidate in _metadata.GetTypeDefinition(declaring).GetMethods())
        {
            var named = CustomAttributes.StateMachineTypeName(_metadata, _metadata.GetMethodDefinition(candidate).GetCustomAttributes());
            if (named is not null && StripAssemblyQualification(named) == serializedName)
            {
                return candidate;
            }
        }

        return default;
    }

    private MethodDefinitionHandle FindByName(TypeDefinitionHandle stateMachineType, string kickoffName)
    {
        var declaring = _metadata.GetTypeDefinition(stateMachineType).GetDeclaringType();
        if (declaring.IsNil)
        {
            return default;
        }

        MethodDefinitionHandle found = default;
        foreach (var candidate in _metadata.GetTypeDefinition(declaring).GetMethods())
        {
            if (_metadata.GetString(_metadata.GetMethodDefinition(candidate).Name) == kickoffName)
            {
                if (!found.IsNil)
                {
                    return default; // overloads: the name alone cannot tell which one
                }

                found = candidate;
            }
        }

        return found;
    }

    private static string StripAssemblyQualification(string serializedTypeName)
    {
        var comma = serializedTypeName.IndexOf(',');
        return comma < 0 ? serializedTypeName : serializedTypeName[..comma];
    }
}
