using System.Text;

namespace Sealights.Coverage;

/// <summary>
/// Every spelling rule of the method id lives here, so the build map (<c>sl-images scan</c>) and
/// the agent cannot drift apart: they both name methods only through this class.
/// </summary>
internal static class MethodIdentityFormat
{
    public const char PartSeparator = '|';
    public const char NestedTypeSeparator = '+';
    public const char ContainerSeparator = '>';
    public const char ReturnTypeSeparator = ':';
    public const string LambdaPrefix = "lambda_";

    public static string Compose(string assemblyName, string typeName, string member) =>
        string.Concat(assemblyName, PartSeparator.ToString(), typeName, PartSeparator.ToString(), member);

    public static string Method(string name, int genericArity, IReadOnlyList<string> parameterTypes, string? returnType)
    {
        var text = new StringBuilder(name);
        if (genericArity > 0)
        {
            // Method names carry no arity in metadata; adding it keeps M(T) and M(int) apart
            // when they would otherwise print alike.
            text.Append('`').Append(genericArity);
        }

        text.Append('(').AppendJoin(',', parameterTypes).Append(')');
        if (returnType is not null)
        {
            text.Append(ReturnTypeSeparator).Append(returnType);
        }

        return text.ToString();
    }

    public static string Lambda(string container, string ordinal) =>
        string.Concat(container, ContainerSeparator.ToString(), LambdaPrefix, ordinal);

    // The ordinal stays: two overloads, or two sibling blocks, may each declare a local
    // function of the same name.
    public static string LocalFunction(string container, string name, string ordinal) =>
        string.Concat(container, ContainerSeparator.ToString(), name, "_", ordinal);

    /// <summary>
    /// Conversion operators are the one C# overload set that differs only by return type, so
    /// they are the only methods whose id carries it.
    /// </summary>
    public static bool NeedsReturnType(string methodName) =>
        methodName is "op_Implicit" or "op_Explicit";

    public static string GenericTypeParameter(int index) => "!" + index;

    public static string GenericMethodParameter(int index) => "!!" + index;

    public static string SzArray(string elementType) => elementType + "[]";

    public static string Array(string elementType, int rank) =>
        string.Concat(elementType, "[", new string(',', rank - 1), "]");

    public static string ByReference(string elementType) => elementType + "&";

    public static string Pointer(string elementType) => elementType + "*";

    public static string FunctionPointer(string returnType, IReadOnlyList<string> parameterTypes) =>
        string.Concat("fnptr(", string.Join(",", parameterTypes), ")", ReturnTypeSeparator.ToString(), returnType);

    /// <summary>
    /// <c>System.Collections.Generic.List`1</c> with one argument reads as
    /// <c>System.Collections.Generic.List&lt;System.String&gt;</c>; the arity suffix is kept only
    /// when the arguments belong to enclosing types too (<c>Outer`1+Inner&lt;System.Int32&gt;</c>),
    /// so dropping it can never make two different types print alike.
    /// </summary>
    public static string GenericInstance(string genericTypeName, IReadOnlyList<string> typeArguments)
    {
        var lastSegment = genericTypeName.LastIndexOf(NestedTypeSeparator) + 1;
        var tick = genericTypeName.LastIndexOf('`');
        var name = genericTypeName;
        if (tick > lastSegment
            && int.TryParse(genericTypeName.AsSpan(tick + 1), out var arity)
            && arity == typeArguments.Count)
        {
            name = genericTypeName[..tick];
        }

        return string.Concat(name, "<", string.Join(",", typeArguments), ">");
    }

    public static string TypeName(string @namespace, string name) =>
        @namespace.Length == 0 ? name : string.Concat(@namespace, ".", name);

    public static string NestedTypeName(string declaringTypeName, string name) =>
        string.Concat(declaringTypeName, NestedTypeSeparator.ToString(), name);
}
