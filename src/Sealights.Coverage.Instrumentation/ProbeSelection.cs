using Mono.Cecil;

namespace Sealights.Coverage.Instrumentation;

/// <summary>
/// Which methods of a module get an entry probe: the source methods <c>scan</c> maps (their
/// MethodDef tokens, from the <see cref="SourceMethodCatalog"/> of the same file), less
/// <list type="bullet">
/// <item>methods without an IL body;</item>
/// <item>the kickoff stub of iterator and async-iterator methods: it only creates the enumerator,
/// the state machine's MoveNext (probed, same id) reports the method when it is enumerated;</item>
/// <item>anything under <c>[ExcludeFromCodeCoverage]</c>: on the method, its property or event, its
/// type or an enclosing type, or the assembly; and the compiler-generated code of an excluded
/// method (its state machine, lambdas and local functions).</item>
/// </list>
/// Compiler plumbing that is no source method (auto-property accessors, closure constructors,
/// record members the compiler writes) carries no probe: its hits would map to no id.
/// </summary>
internal static class ProbeSelection
{
    private const string ExcludeAttribute = "System.Diagnostics.CodeAnalysis.ExcludeFromCodeCoverageAttribute";
    private const string CompilerServices = "System.Runtime.CompilerServices.";

    public static List<MethodDefinition> Select(ModuleDefinition module, IReadOnlySet<int> sourceMethodTokens)
    {
        var selected = new List<MethodDefinition>();
        if (Has(module.Assembly))
        {
            return selected;
        }

        var excluded = new ExcludedMethods(module);
        foreach (var type in module.GetTypes())
        {
            foreach (var method in type.Methods)
            {
                if (method.HasBody
                    && sourceMethodTokens.Contains(method.MetadataToken.ToInt32())
                    && !IsIteratorKickoff(method)
                    && !excluded.Contains(method))
                {
                    selected.Add(method);
                }
            }
        }

        return selected;
    }

    /// <summary>True when the whole assembly is under <c>[ExcludeFromCodeCoverage]</c>.</summary>
    public static bool Has(ICustomAttributeProvider provider) =>
        provider.HasCustomAttributes && provider.CustomAttributes.Any(a => a.AttributeType.FullName == ExcludeAttribute);

    private static bool IsIteratorKickoff(MethodDefinition method) =>
        method.HasCustomAttributes && method.CustomAttributes.Any(a =>
            a.AttributeType.FullName is CompilerServices + "IteratorStateMachineAttribute" or CompilerServices + "AsyncIteratorStateMachineAttribute");

    /// <summary>The excluded methods of one module, with their compiler-generated code.</summary>
    private sealed class ExcludedMethods
    {
        private readonly Dictionary<TypeDefinition, MethodDefinition> _kickoffByStateMachine = new();

        public ExcludedMethods(ModuleDefinition module)
        {
            foreach (var type in module.GetTypes())
            {
                foreach (var method in type.Methods.Where(m => m.HasCustomAttributes))
                {
                    foreach (var attribute in method.CustomAttributes)
                    {
                        if (attribute.AttributeType.Namespace == "System.Runtime.CompilerServices"
                            && attribute.AttributeType.Name.EndsWith("StateMachineAttribute", StringComparison.Ordinal)
                            && attribute.ConstructorArguments is [{ Value: TypeReference stateMachine }]
                            && TryResolve(stateMachine) is { } resolved
                            && resolved.Module == module)
                        {
                            _kickoffByStateMachine[resolved] = method;
                        }
                    }
                }
            }
        }

        // A state machine type is in the same module; anything unresolvable is simply not one.
        private static TypeDefinition? TryResolve(TypeReference type)
        {
            try
            {
                return type.Resolve();
            }
            catch (AssemblyResolutionException)
            {
                return null;
            }
        }

        public bool Contains(MethodDefinition method)
        {
            if (IsExcludedMember(method) || IsInExcludedType(method.DeclaringType))
            {
                return true;
            }

            // A state machine's bodies are the kickoff's code; so are lambdas and local functions.
            for (var type = method.DeclaringType; type is not null; type = type.DeclaringType)
            {
                if (_kickoffByStateMachine.TryGetValue(type, out var kickoff) && Contains(kickoff))
                {
                    return true;
                }
            }

            return ContainerName(method.Name) is { } container && IsExcludedContainer(method.DeclaringType, container);
        }

        private static bool IsExcludedMember(MethodDefinition method)
        {
            if (Has(method))
            {
                return true;
            }

            var type = method.DeclaringType;
            return (method.IsGetter || method.IsSetter) && type.Properties.Any(p => (p.GetMethod == method || p.SetMethod == method) && Has(p))
                || (method.IsAddOn || method.IsRemoveOn) && type.Events.Any(e => (e.AddMethod == method || e.RemoveMethod == method) && Has(e));
        }

        private static bool IsInExcludedType(TypeDefinition? type)
        {
            for (; type is not null; type = type.DeclaringType)
            {
                if (Has(type))
                {
                    return true;
                }
            }

            return false;
        }

        // Lambdas and local functions are named after the method whose body declares them
        // (<Container>b__N_M, <Container>g__Name|N_M) and live on the user type or its closures.
        // The name alone cannot tell overloads apart: they count as excluded only when every
        // method of that name on the user type is.
        private bool IsExcludedContainer(TypeDefinition declaring, string container)
        {
            var user = declaring;
            while (user.Name.StartsWith('<') && user.DeclaringType is not null)
            {
                user = user.DeclaringType;
            }

            var candidates = user.Methods.Where(m => m.Name == container).ToList();
            return candidates.Count > 0 && candidates.All(Contains);
        }

        private static string? ContainerName(string methodName)
        {
            if (!methodName.StartsWith('<'))
            {
                return null;
            }

            var close = methodName.IndexOf('>');
            var kind = close + 1 < methodName.Length ? methodName[close + 1] : '\0';
            return close > 1 && kind is 'b' or 'g' ? methodName[1..close] : null;
        }
    }
}
