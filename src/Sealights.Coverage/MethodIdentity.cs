namespace Sealights.Coverage;

/// <summary>
/// A method's unique id: <c>&lt;Assembly&gt;|&lt;Namespace.Type[+Nested]&gt;|&lt;Member&gt;</c>, built from
/// names and signatures only (never metadata tokens), so it survives rebuilds of unchanged
/// source and is identical in the build map and in the agent's footprints. See README.md.
/// </summary>
public sealed class MethodIdentity : IEquatable<MethodIdentity>
{
    private MethodIdentity(string assemblyName, string typeName, string member)
    {
        AssemblyName = assemblyName;
        TypeName = typeName;
        Member = member;
        Id = MethodIdentityFormat.Compose(assemblyName, typeName, member);
    }

    /// <summary>The assembly's simple name from its metadata (not the file name).</summary>
    public string AssemblyName { get; }

    /// <summary>The full name of the source type, nested types joined by <c>+</c>.</summary>
    public string TypeName { get; }

    /// <summary>The method part: <c>Name(params)</c>, <c>Container&gt;lambda_N_M</c> or <c>Container&gt;Local_N_M</c>.</summary>
    public string Member { get; }

    /// <summary>The unique id string shipped in footprints and written to the build map.</summary>
    public string Id { get; }

    /// <summary>An ordinary method, constructor, accessor or operator.</summary>
    /// <param name="assemblyName">Simple assembly name.</param>
    /// <param name="typeName">Full type name, nested types joined by <c>+</c>.</param>
    /// <param name="methodName">Metadata method name (<c>.ctor</c>, <c>get_Name</c>, <c>op_Addition</c>).</param>
    /// <param name="genericArity">Number of the method's own generic parameters.</param>
    /// <param name="parameterTypes">Parameter types spelled as the format requires.</param>
    /// <param name="returnType">The return type; used only for conversion operators.</param>
    public static MethodIdentity ForMethod(
        string assemblyName,
        string typeName,
        string methodName,
        int genericArity,
        IReadOnlyList<string> parameterTypes,
        string returnType)
    {
        var member = MethodIdentityFormat.Method(
            methodName,
            genericArity,
            parameterTypes,
            MethodIdentityFormat.NeedsReturnType(methodName) ? returnType : null);
        return new MethodIdentity(assemblyName, typeName, member);
    }

    /// <summary>A lambda, named by the source method that contains it and its compiler ordinal.</summary>
    /// <param name="assemblyName">Simple assembly name.</param>
    /// <param name="typeName">The user type that declares the containing method.</param>
    /// <param name="container">The containing method's metadata name.</param>
    /// <param name="ordinal"><c>N_M</c>: the containing method's ordinal and the lambda's ordinal in it.</param>
    public static MethodIdentity ForLambda(string assemblyName, string typeName, string container, string ordinal) =>
        new(assemblyName, typeName, MethodIdentityFormat.Lambda(container, ordinal));

    /// <summary>A local function, named by its container, its own name and its compiler ordinal.</summary>
    /// <param name="assemblyName">Simple assembly name.</param>
    /// <param name="typeName">The user type that declares the containing method.</param>
    /// <param name="container">The containing method's metadata name.</param>
    /// <param name="name">The local function's source name.</param>
    /// <param name="ordinal"><c>N_M</c>: the containing method's ordinal and the function's ordinal in it.</param>
    public static MethodIdentity ForLocalFunction(string assemblyName, string typeName, string container, string name, string ordinal) =>
        new(assemblyName, typeName, MethodIdentityFormat.LocalFunction(container, name, ordinal));

    /// <summary>Splits an id back into its three parts (for reports that group by assembly or type).</summary>
    /// <param name="id">An id produced by this class.</param>
    /// <param name="identity">The parsed identity when the id has three non-empty parts.</param>
    public static bool TryParse(string? id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MethodIdentity? identity)
    {
        identity = null;
        if (string.IsNullOrEmpty(id))
        {
            return false;
        }

        // Neither assembly nor type names contain '|'; the member may (it never does today),
        // so only the first two separators split.
        var first = id.IndexOf(MethodIdentityFormat.PartSeparator);
        var second = first < 0 ? -1 : id.IndexOf(MethodIdentityFormat.PartSeparator, first + 1);
        if (first <= 0 || second <= first + 1 || second == id.Length - 1)
        {
            return false;
        }

        identity = new MethodIdentity(id[..first], id[(first + 1)..second], id[(second + 1)..]);
        return true;
    }

    /// <inheritdoc />
    public bool Equals(MethodIdentity? other) => other is not null && string.Equals(Id, other.Id, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as MethodIdentity);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Id);

    /// <inheritdoc />
    public override string ToString() => Id;
}
