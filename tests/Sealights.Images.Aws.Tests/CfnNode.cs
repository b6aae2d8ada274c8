namespace Sealights.Images.Aws.Tests;

/// <summary>A CloudFormation template value as YAML gives it: a scalar, a mapping or a list.
/// Short-form intrinsics (<c>!Ref X</c>) become the long form (<c>{Ref: X}</c>), as CloudFormation reads them.</summary>
public abstract record CfnNode(string Where);

/// <summary>A scalar; <paramref name="Plain"/> when unquoted (YAML resolves plain 10 and true to a number and a boolean).</summary>
public sealed record CfnScalar(string Value, bool Plain, string Where) : CfnNode(Where)
{
    public override string ToString() => Value;
}

public sealed record CfnList(IReadOnlyList<CfnNode> Items, string Where) : CfnNode(Where);

public sealed record CfnMap(IReadOnlyList<KeyValuePair<string, CfnNode>> Entries, string Where) : CfnNode(Where)
{
    public IEnumerable<string> Keys => Entries.Select(e => e.Key);

    public CfnNode? this[string key] => Entries.FirstOrDefault(e => e.Key == key).Value;

    /// <summary>A single-key mapping whose key is <c>Ref</c>, <c>Condition</c> or <c>Fn::…</c>: an intrinsic function.</summary>
    public string? Intrinsic =>
        Entries.Count == 1 && (Entries[0].Key is "Ref" or "Condition" || Entries[0].Key.StartsWith("Fn::", StringComparison.Ordinal))
            ? Entries[0].Key
            : null;

    public CfnMap Map(string key) => this[key] as CfnMap ?? throw new KeyNotFoundException($"{Where}: no mapping '{key}'");

    public CfnList List(string key) => this[key] as CfnList ?? throw new KeyNotFoundException($"{Where}: no list '{key}'");

    public string Text(string key) => (this[key] as CfnScalar)?.Value ?? throw new KeyNotFoundException($"{Where}: no scalar '{key}'");
}
