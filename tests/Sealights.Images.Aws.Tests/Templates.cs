using Sealights.Images.Testing;

namespace Sealights.Images.Aws.Tests;

/// <summary>The repository's CloudFormation templates, read with <see cref="CfnYaml"/>.</summary>
public static class Templates
{
    public static readonly string[] Paths = ["ecr.yaml", "deploy/function.yaml"];

    public static CfnMap Ecr => Load("ecr.yaml");

    public static CfnMap Function => Load("deploy/function.yaml");

    public static CfnMap Load(string relativePath) => CfnYaml.Load(RepositoryPaths.Combine(relativePath.Split('/')));

    public static CfnMap Resource(CfnMap template, string name) => template.Map("Resources").Map(name);

    public static IEnumerable<(string Name, CfnMap Resource)> ResourcesOfType(CfnMap template, string type) =>
        template.Map("Resources").Entries
            .Where(e => e.Value is CfnMap r && r["Type"] is CfnScalar t && t.Value == type)
            .Select(e => (e.Key, (CfnMap)e.Value));

    /// <summary>A parameter's Default, as a deploy without overrides would use it.</summary>
    public static string Default(CfnMap template, string parameter) => template.Map("Parameters").Map(parameter).Text("Default");

    /// <summary>The text of a <c>!Sub</c> string with the template's parameter defaults put in.</summary>
    public static string SubstituteDefaults(CfnMap template, CfnNode sub)
    {
        var text = ((sub as CfnMap)?["Fn::Sub"] as CfnScalar)?.Value ?? throw new InvalidDataException("not a !Sub string");
        foreach (var (name, _) in template.Map("Parameters").Entries)
        {
            if (template.Map("Parameters").Map(name)["Default"] is CfnScalar value)
            {
                text = text.Replace("${" + name + "}", value.Value, StringComparison.Ordinal);
            }
        }
        return text;
    }

    /// <summary>Every scalar under a node (values of intrinsics included).</summary>
    public static IEnumerable<CfnScalar> Scalars(CfnNode node) => node switch
    {
        CfnScalar scalar => [scalar],
        CfnList list => list.Items.SelectMany(Scalars),
        CfnMap map => map.Entries.SelectMany(e => Scalars(e.Value)),
        _ => [],
    };
}
