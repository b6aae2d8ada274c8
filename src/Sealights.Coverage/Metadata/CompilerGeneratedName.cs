namespace Sealights.Coverage.Metadata;

/// <summary>What a Roslyn-synthesized member or type name says about the source it came from.</summary>
internal enum CompilerGeneratedKind
{
    /// <summary><c>&lt;Container&gt;b__N_M</c> (or <c>b__M</c> inside a display class).</summary>
    Lambda,

    /// <summary><c>&lt;Container&gt;g__Name|N_M</c>.</summary>
    LocalFunction,

    /// <summary><c>&lt;Kickoff&gt;d__N</c>: an async or iterator state machine type.</summary>
    StateMachine,

    /// <summary><c>&lt;&gt;c__DisplayClassN_M</c>: a closure type.</summary>
    DisplayClass,

    /// <summary>Any other <c>&lt;...&gt;</c> name (backing fields, anonymous types, <c>&lt;&gt;c</c>, ...).</summary>
    Other,
}

/// <summary>
/// Parses Roslyn's synthesized names, <c>&lt;Container&gt;K__Suffix</c>. The container part is
/// bracket-balanced because it can itself be synthesized (<c>&lt;&lt;Main&gt;g__Local|0_0&gt;d</c>).
/// </summary>
internal readonly record struct CompilerGeneratedName(CompilerGeneratedKind Kind, string Container, string Name, string Ordinal)
{
    private const string DisplayClassPrefix = "<>c__DisplayClass";

    public static bool TryParse(string metadataName, out CompilerGeneratedName name)
    {
        name = default;
        var text = StripArity(metadataName);
        var close = MatchingClose(text);
        if (close < 0)
        {
            return false;
        }

        var container = text[1..close];
        var rest = text[(close + 1)..];
        if (text.StartsWith(DisplayClassPrefix, StringComparison.Ordinal))
        {
            name = new CompilerGeneratedName(CompilerGeneratedKind.DisplayClass, string.Empty, string.Empty, text[DisplayClassPrefix.Length..]);
            return true;
        }

        var kind = rest.Length > 0 ? rest[0] : '\0';
        var suffix = rest.Length > 3 && rest[1] == '_' && rest[2] == '_' ? rest[3..] : string.Empty;
        name = kind switch
        {
            'b' when container.Length > 0 => new CompilerGeneratedName(CompilerGeneratedKind.Lambda, container, string.Empty, suffix),
            'g' when container.Length > 0 => LocalFunction(container, suffix),
            'd' when container.Length > 0 => new CompilerGeneratedName(CompilerGeneratedKind.StateMachine, container, string.Empty, suffix),
            _ => new CompilerGeneratedName(CompilerGeneratedKind.Other, container, string.Empty, suffix),
        };
        return true;
    }

    /// <summary>The containing method's ordinal from a display class name (<c>N</c> of <c>N_M</c>).</summary>
    public string MethodOrdinal()
    {
        var underscore = Ordinal.IndexOf('_');
        return underscore < 0 ? Ordinal : Ordinal[..underscore];
    }

    private static CompilerGeneratedName LocalFunction(string container, string suffix)
    {
        var bar = suffix.IndexOf('|');
        return bar < 0
            ? new CompilerGeneratedName(CompilerGeneratedKind.LocalFunction, container, suffix, string.Empty)
            : new CompilerGeneratedName(CompilerGeneratedKind.LocalFunction, container, suffix[..bar], suffix[(bar + 1)..]);
    }

    // Generic closures and state machines carry a `N arity suffix that is not part of the name.
    private static string StripArity(string name)
    {
        var tick = name.LastIndexOf('`');
        return tick > name.LastIndexOf('>') ? name[..tick] : name;
    }

    private static int MatchingClose(string text)
    {
        if (text.Length == 0 || text[0] != '<')
        {
            return -1;
        }

        var depth = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '<')
            {
                depth++;
            }
            else if (text[i] == '>' && --depth == 0)
            {
                return i;
            }
        }

        return -1;
    }
}
