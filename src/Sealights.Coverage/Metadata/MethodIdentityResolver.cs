using System.Diagnostics.CodeAnalysis;
using System.Reflection.Metadata;

namespace Sealights.Coverage.Metadata;

/// <summary>
/// Names a MethodDef the way the id format requires, folding compiler-generated code onto the
/// source it came from: state machine members become their kickoff method, lambdas and local
/// functions are named by their container on the user type that declares it.
/// </summary>
internal sealed class MethodIdentityResolver
{
    private readonly MetadataReader _metadata;
    private readonly StateMachineKickoffs _kickoffs;
    private readonly string _assemblyName;

    public MethodIdentityResolver(MetadataReader metadata, StateMachineKickoffs kickoffs)
    {
        _metadata = metadata;
        _kickoffs = kickoffs;
        _assemblyName = AssemblyNames.Of(metadata);
    }

    /// <summary>
    /// The identity of the source method <paramref name="method"/> belongs to, or false when it
    /// is compiler plumbing with no source of its own (auto-property accessors, record members,
    /// closure constructors, state-machine helpers of unknown kickoff).
    /// </summary>
    /// <param name="method">Any MethodDef of the module.</param>
    /// <param name="identity">The identity of the source method.</param>
    /// <param name="kickoff">The kickoff method when <paramref name="method"/> is a state machine member, else nil.</param>
    public bool TryResolve(MethodDefinitionHandle method, [NotNullWhen(true)] out MethodIdentity? identity, out MethodDefinitionHandle kickoff)
    {
        if (_kickoffs.TryGetKickoff(method, out kickoff))
        {
            return TryResolveWritten(kickoff, out identity);
        }

        kickoff = default;
        return TryResolveWritten(method, out identity);
    }

    private bool TryResolveWritten(MethodDefinitionHandle handle, [NotNullWhen(true)] out MethodIdentity? identity)
    {
        identity = null;
        var method = _metadata.GetMethodDefinition(handle);
        var type = method.GetDeclaringType();
        var name = _metadata.GetString(method.Name);
        if (CompilerGeneratedName.TryParse(name, out var generated)
            && generated.Kind is CompilerGeneratedKind.Lambda or CompilerGeneratedKind.LocalFunction)
        {
            identity = ResolveClosureMethod(type, generated);
            return true;
        }

        // Nested '<'-named types are closures and state machines: anything in them that is not
        // a lambda, a local function or a state machine body is plumbing.
        if (IsNestedCompilerType(type) || CustomAttributes.IsCompilerGenerated(_metadata, method.GetCustomAttributes()))
        {
            return false;
        }

        var signature = method.DecodeSignature(SignatureTypeNameProvider.Instance, genericContext: null);
        identity = MethodIdentity.ForMethod(
            _assemblyName,
            TypeNames.Of(_metadata, type),
            name,
            signature.GenericParameterCount,
            signature.ParameterTypes,
            signature.ReturnType);
        return true;
    }

    private MethodIdentity ResolveClosureMethod(TypeDefinitionHandle declaringType, CompilerGeneratedName generated)
    {
        var ordinal = generated.Ordinal;
        var userType = declaringType;
        while (IsNestedCompilerType(userType))
        {
            // Inside a display class the method's own name omits the containing method's
            // ordinal; the display class name (<>c__DisplayClassN_M) carries it.
            if (!ordinal.Contains('_')
                && CompilerGeneratedName.TryParse(_metadata.GetString(_metadata.GetTypeDefinition(userType).Name), out var closure)
                && closure.Kind == CompilerGeneratedKind.DisplayClass)
            {
                ordinal = closure.MethodOrdinal() + "_" + ordinal;
            }

            userType = _metadata.GetTypeDefinition(userType).GetDeclaringType();
        }

        var typeName = TypeNames.Of(_metadata, userType);
        return generated.Kind == CompilerGeneratedKind.Lambda
            ? MethodIdentity.ForLambda(_assemblyName, typeName, generated.Container, ordinal)
            : MethodIdentity.ForLocalFunction(_assemblyName, typeName, generated.Container, generated.Name, ordinal);
    }

    // A top-level '<'-named type (C# 9's <Program>$) holds user code, so only nested ones count.
    private bool IsNestedCompilerType(TypeDefinitionHandle type) =>
        !_metadata.GetTypeDefinition(type).GetDeclaringType().IsNil && TypeNames.IsCompilerNamed(_metadata, type);
}
