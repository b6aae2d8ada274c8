using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sealights.Images.Aws.Tests;

/// <summary>
/// Checks a CloudFormation template against the resource specification: template sections,
/// resource types, property names, required properties, property value types (strings, numbers,
/// booleans, lists, maps, nested property types, allowed values), and references: <c>Ref</c>,
/// <c>Fn::GetAtt</c> (resource and attribute name), <c>Fn::Sub</c> variables, conditions.
/// Returns one line per finding; none means valid as far as the specification tells.
/// </summary>
public sealed partial class TemplateValidator(ResourceSpec spec)
{
    private static readonly HashSet<string> Sections =
        ["AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings", "Conditions", "Transform", "Resources", "Outputs"];

    private static readonly HashSet<string> ResourceKeys =
        ["Type", "Properties", "DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy", "Metadata", "CreationPolicy", "UpdatePolicy"];

    private static readonly HashSet<string> PseudoParameters =
        ["AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"];

    private static readonly HashSet<string> ParameterTypes = ["String", "Number", "List<Number>", "CommaDelimitedList"];

    public IReadOnlyList<string> Validate(CfnMap template)
    {
        var findings = new List<string>();
        foreach (var key in template.Keys.Where(k => !Sections.Contains(k)))
        {
            findings.Add($"unknown template section '{key}'");
        }
        var parameters = template["Parameters"] as CfnMap;
        var conditions = template["Conditions"] as CfnMap;
        if (template["Resources"] is not CfnMap resources || resources.Entries.Count == 0)
        {
            findings.Add("no Resources");
            return findings;
        }
        foreach (var (name, parameter) in parameters?.Entries ?? [])
        {
            var type = (parameter as CfnMap)?["Type"] as CfnScalar;
            if (type is null || !(ParameterTypes.Contains(type.Value) || type.Value.StartsWith("AWS::", StringComparison.Ordinal) || type.Value.StartsWith("List<AWS::", StringComparison.Ordinal)))
            {
                findings.Add($"Parameters.{name}: missing or unknown Type '{type?.Value}'");
            }
        }

        var scope = new Scope(
            parameters?.Keys.ToHashSet() ?? [],
            resources,
            conditions?.Keys.ToHashSet() ?? []);
        foreach (var (name, node) in resources.Entries)
        {
            ValidateResource(name, node, scope, findings);
        }
        foreach (var (name, output) in (template["Outputs"] as CfnMap)?.Entries ?? [])
        {
            if (output is not CfnMap map || map["Value"] is null)
            {
                findings.Add($"Outputs.{name}: no Value");
                continue;
            }
            if (map["Condition"] is CfnScalar condition && !scope.Conditions.Contains(condition.Value))
            {
                findings.Add($"Outputs.{name}.Condition: no condition '{condition.Value}'");
            }
            CheckReferences(map, $"Outputs.{name}", scope, findings);
        }
        if (conditions is not null)
        {
            CheckReferences(conditions, "Conditions", scope, findings);
        }
        return findings;
    }

    private sealed record Scope(HashSet<string> Parameters, CfnMap Resources, HashSet<string> Conditions);

    private void ValidateResource(string name, CfnNode node, Scope scope, List<string> findings)
    {
        var path = $"Resources.{name}";
        if (node is not CfnMap resource || resource["Type"] is not CfnScalar type)
        {
            findings.Add($"{path}: no Type");
            return;
        }
        foreach (var key in resource.Keys.Where(k => !ResourceKeys.Contains(k)))
        {
            findings.Add($"{path}: unknown resource attribute '{key}'");
        }
        if (resource["Condition"] is CfnScalar condition && !scope.Conditions.Contains(condition.Value))
        {
            findings.Add($"{path}.Condition: no condition '{condition.Value}'");
        }
        if (!spec.TryGetResource(type.Value, out var definition))
        {
            findings.Add($"{path}: resource type {type.Value} is not in the specification");
            return;
        }
        var properties = resource["Properties"] as CfnMap ?? new CfnMap([], resource.Where);
        CheckProperties(properties, definition.GetProperty("properties"), $"{path}.Properties", findings);
        CheckReferences(resource, path, scope, findings);
    }

    private void CheckProperties(CfnMap values, JsonElement definitions, string path, List<string> findings)
    {
        foreach (var (name, value) in values.Entries)
        {
            if (!definitions.TryGetProperty(name, out var property))
            {
                findings.Add($"{path}: unknown property '{name}' (known: {string.Join(", ", definitions.EnumerateObject().Select(p => p.Name))})");
                continue;
            }
            var errors = new List<string>();
            CheckValue(value, property.GetProperty("type"), $"{path}.{name}", errors);
            if (errors.Count > 0 && property.TryGetProperty("previousTypes", out var previous)
                && previous.EnumerateArray().Any(t => Passes(value, t, $"{path}.{name}")))
            {
                errors.Clear();
            }
            findings.AddRange(errors);
        }
        foreach (var required in definitions.EnumerateObject()
            .Where(p => p.Value.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.True)
            .Select(p => p.Name)
            .Where(n => values[n] is null))
        {
            findings.Add($"{path}: required property '{required}' is missing");
        }
    }

    private bool Passes(CfnNode value, JsonElement type, string path)
    {
        var errors = new List<string>();
        CheckValue(value, type, path, errors);
        return errors.Count == 0;
    }

    private void CheckValue(CfnNode value, JsonElement type, string path, List<string> findings)
    {
        if (value is CfnMap { Intrinsic: { } function } call)
        {
            // Fn::If: each branch must fit (AWS::NoValue drops the property); other functions are
            // resolved at deploy time and checked for their references only.
            if (function == "Fn::If" && call[function] is CfnList { Items.Count: 3 } branches)
            {
                foreach (var branch in branches.Items.Skip(1))
                {
                    if (branch is CfnMap { Intrinsic: "Ref" } reference && (reference["Ref"] as CfnScalar)?.Value == "AWS::NoValue")
                    {
                        continue;
                    }
                    CheckValue(branch, type, path, findings);
                }
            }
            return;
        }
        var kind = type.GetProperty("type").GetString();
        switch (kind)
        {
            case "string":
            case "date-time":
                if (value is not CfnScalar text)
                {
                    findings.Add($"{path}: expected a {kind}, found a {Describe(value)}");
                }
                else if (type.TryGetProperty("allowedValues", out var allowed) && !allowed.EnumerateArray().Any(a => a.GetString() == text.Value))
                {
                    findings.Add($"{path}: '{text.Value}' is not one of {string.Join(", ", allowed.EnumerateArray().Select(a => a.GetString()))}");
                }
                break;
            case "number":
                if (value is not CfnScalar number || !double.TryParse(number.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                {
                    findings.Add($"{path}: expected a number, found {Describe(value)}");
                }
                break;
            case "integer":
                if (value is not CfnScalar integer || !long.TryParse(integer.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                {
                    findings.Add($"{path}: expected an integer, found {Describe(value)}");
                }
                break;
            case "boolean":
                if (value is not CfnScalar flag || !bool.TryParse(flag.Value, out _))
                {
                    findings.Add($"{path}: expected a boolean, found {Describe(value)}");
                }
                break;
            case "json":
                break;
            case "tag":
                if (value is not CfnMap tag || tag["Key"] is null || tag["Value"] is null || tag.Entries.Count != 2)
                {
                    findings.Add($"{path}: expected a tag {{Key, Value}}, found {Describe(value)}");
                }
                break;
            case "array":
                if (value is not CfnList list)
                {
                    findings.Add($"{path}: expected a list, found a {Describe(value)}");
                    break;
                }
                for (var i = 0; i < list.Items.Count; i++)
                {
                    CheckValue(list.Items[i], type.GetProperty("element"), $"{path}[{i}]", findings);
                }
                break;
            case "map":
                if (value is not CfnMap map)
                {
                    findings.Add($"{path}: expected a mapping, found a {Describe(value)}");
                    break;
                }
                foreach (var (key, item) in map.Entries)
                {
                    CheckValue(item, type.GetProperty("element"), $"{path}.{key}", findings);
                }
                break;
            case "ref":
                if (value is not CfnMap structure)
                {
                    findings.Add($"{path}: expected a mapping, found a {Describe(value)}");
                    break;
                }
                var definition = spec.TypeDefinition(type.GetProperty("reference").GetProperty("$ref").GetString()!);
                CheckProperties(structure, definition.GetProperty("properties"), path, findings);
                break;
            case "union":
                var candidates = type.GetProperty("types").EnumerateArray().ToList();
                if (!candidates.Any(t => Passes(value, t, path)))
                {
                    // Report against the first alternative, so the finding names something concrete.
                    CheckValue(value, candidates[0], path, findings);
                }
                break;
            default:
                findings.Add($"{path}: the specification has a type '{kind}' this validator does not know");
                break;
        }
    }

    private static string Describe(CfnNode node) => node switch
    {
        CfnScalar scalar => $"scalar '{scalar.Value}'",
        CfnList => "list",
        _ => "mapping",
    };

    /// <summary>Every Ref, Fn::GetAtt, Fn::Sub variable and condition name under a node.</summary>
    private void CheckReferences(CfnNode node, string path, Scope scope, List<string> findings)
    {
        switch (node)
        {
            case CfnList list:
                for (var i = 0; i < list.Items.Count; i++)
                {
                    CheckReferences(list.Items[i], $"{path}[{i}]", scope, findings);
                }
                return;
            case CfnMap { Intrinsic: { } function } call:
                var argument = call[function]!;
                switch (function)
                {
                    case "Ref":
                        if (argument is not CfnScalar target || !(scope.Parameters.Contains(target.Value) || scope.Resources[target.Value] is not null || PseudoParameters.Contains(target.Value)))
                        {
                            findings.Add($"{path}: Ref to unknown '{argument}'");
                        }
                        return;
                    case "Condition":
                        if (argument is not CfnScalar condition || !scope.Conditions.Contains(condition.Value))
                        {
                            findings.Add($"{path}: unknown condition '{argument}'");
                        }
                        return;
                    case "Fn::GetAtt":
                        CheckGetAtt(argument, path, scope, findings);
                        return;
                    case "Fn::If":
                        if (argument is not CfnList { Items.Count: 3 } branches || branches.Items[0] is not CfnScalar name || !scope.Conditions.Contains(name.Value))
                        {
                            findings.Add($"{path}: Fn::If needs [condition, then, else] with a known condition");
                            return;
                        }
                        CheckReferences(branches.Items[1], path, scope, findings);
                        CheckReferences(branches.Items[2], path, scope, findings);
                        return;
                    case "Fn::Sub":
                        CheckSub(argument, path, scope, findings);
                        return;
                    default:
                        CheckReferences(argument, $"{path}.{function}", scope, findings);
                        return;
                }
            case CfnMap map:
                foreach (var (key, value) in map.Entries)
                {
                    CheckReferences(value, $"{path}.{key}", scope, findings);
                }
                return;
        }
    }

    private void CheckGetAtt(CfnNode argument, string path, Scope scope, List<string> findings)
    {
        if (argument is not CfnList { Items: [CfnScalar resource, CfnScalar attribute] })
        {
            findings.Add($"{path}: Fn::GetAtt needs [resource, attribute]");
            return;
        }
        if (scope.Resources[resource.Value] is not CfnMap target)
        {
            findings.Add($"{path}: Fn::GetAtt of unknown resource '{resource.Value}'");
            return;
        }
        if (target["Type"] is CfnScalar type && spec.TryGetResource(type.Value, out var definition)
            && !spec.Attributes(definition).Contains(attribute.Value))
        {
            findings.Add($"{path}: {type.Value} has no attribute '{attribute.Value}' (has: {string.Join(", ", spec.Attributes(definition))})");
        }
    }

    private void CheckSub(CfnNode argument, string path, Scope scope, List<string> findings)
    {
        CfnScalar? text;
        var variables = new HashSet<string>();
        if (argument is CfnList { Items: [CfnScalar body, CfnMap map] })
        {
            text = body;
            foreach (var (name, value) in map.Entries)
            {
                variables.Add(name);
                CheckReferences(value, $"{path}.Fn::Sub.{name}", scope, findings);
            }
        }
        else
        {
            text = argument as CfnScalar;
        }
        if (text is null)
        {
            findings.Add($"{path}: Fn::Sub needs a string or [string, variables]");
            return;
        }
        foreach (Match match in SubVariable().Matches(text.Value))
        {
            var name = match.Groups[1].Value;
            if (name.StartsWith('!') || variables.Contains(name) || scope.Parameters.Contains(name) || PseudoParameters.Contains(name) || scope.Resources[name] is not null)
            {
                continue;
            }
            var dot = name.IndexOf('.');
            if (dot > 0)
            {
                CheckGetAtt(new CfnList([new CfnScalar(name[..dot], false, path), new CfnScalar(name[(dot + 1)..], false, path)], path), path, scope, findings);
                continue;
            }
            findings.Add($"{path}: Fn::Sub variable '${{{name}}}' is not a parameter, resource, pseudo parameter or variable");
        }
    }

    [GeneratedRegex(@"\$\{([^}]+)\}")]
    private static partial Regex SubVariable();
}
