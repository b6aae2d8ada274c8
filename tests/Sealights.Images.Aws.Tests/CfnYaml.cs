using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sealights.Images.Aws.Tests;

/// <summary>
/// Reads a CloudFormation (or any) YAML file with YamlDotNet, with CloudFormation's short-form tags:
/// <c>!Ref</c>, <c>!GetAtt</c>, <c>!Sub</c>, <c>!ImportValue</c>, <c>!If</c> and the other <c>Fn::</c>
/// functions. A tag CloudFormation does not know is an error (a duplicate key is YamlDotNet's own).
/// </summary>
public static class CfnYaml
{
    private static readonly HashSet<string> FnTags =
    [
        "Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join", "Select", "Split", "Sub",
        "Transform", "And", "Equals", "If", "Not", "Or", "Length", "ToJsonString",
    ];

    public static CfnMap Load(string path)
    {
        using var reader = new StreamReader(path);
        return Parse(reader, Path.GetFileName(path));
    }

    public static CfnMap Parse(TextReader reader, string name)
    {
        var stream = new YamlStream();
        stream.Load(reader);
        if (stream.Documents.Count != 1)
        {
            throw new InvalidDataException($"{name}: expected one YAML document, found {stream.Documents.Count}");
        }
        return Convert(stream.Documents[0].RootNode, name) as CfnMap
            ?? throw new InvalidDataException($"{name}: the document is not a mapping");
    }

    private static CfnNode Convert(YamlNode node, string name)
    {
        var where = $"{name}:{node.Start.Line}";
        var plain = Plain(node, where);
        var tag = node.Tag.IsEmpty ? null : node.Tag.Value;
        if (tag is null || tag == "!" || tag.StartsWith("tag:yaml.org,2002:", StringComparison.Ordinal))
        {
            return plain;
        }
        var function = tag[1..];
        if (function == "Ref" || function == "Condition")
        {
            return Single(function, plain, where);
        }
        if (!FnTags.Contains(function))
        {
            throw new InvalidDataException($"{where}: unknown tag {tag}");
        }
        // !GetAtt Resource.Attribute (the attribute may contain dots: Endpoint.Address).
        if (function == "GetAtt" && plain is CfnScalar dotted)
        {
            var dot = dotted.Value.IndexOf('.');
            if (dot <= 0)
            {
                throw new InvalidDataException($"{where}: !GetAtt {dotted.Value} is not Resource.Attribute");
            }
            plain = new CfnList([new CfnScalar(dotted.Value[..dot], false, where), new CfnScalar(dotted.Value[(dot + 1)..], false, where)], where);
        }
        return Single("Fn::" + function, plain, where);
    }

    private static CfnMap Single(string key, CfnNode value, string where) => new([new(key, value)], where);

    private static CfnNode Plain(YamlNode node, string where)
    {
        var name = where[..where.LastIndexOf(':')];
        switch (node)
        {
            case YamlScalarNode scalar:
                return new CfnScalar(scalar.Value ?? "", scalar.Style is ScalarStyle.Plain or ScalarStyle.Any, where);
            case YamlSequenceNode sequence:
                return new CfnList(sequence.Children.Select(c => Convert(c, name)).ToList(), where);
            case YamlMappingNode mapping:
                var entries = new List<KeyValuePair<string, CfnNode>>();
                foreach (var (key, value) in mapping.Children)
                {
                    var text = (key as YamlScalarNode)?.Value ?? throw new InvalidDataException($"{where}: a mapping key that is not a scalar");
                    entries.Add(new(text, Convert(value, name)));
                }
                return new CfnMap(entries, where);
            default:
                throw new InvalidDataException($"{where}: unsupported YAML node {node.NodeType}");
        }
    }
}
