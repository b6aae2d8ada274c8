using Sealights.Images.Testing;

namespace Sealights.Images.Aws.Tests;

/// <summary>The GitHub workflows under .github/workflows, read with YamlDotNet.</summary>
public static class Workflows
{
    public static string Folder => RepositoryPaths.Combine(".github", "workflows");

    public static IEnumerable<string> Files() =>
        Directory.EnumerateFiles(Folder).Where(f => f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal)).Order();

    public static CfnMap Load(string name) => CfnYaml.Load(Path.Combine(Folder, name));

    public static IEnumerable<(string Job, CfnMap Step)> Steps(CfnMap workflow) =>
        workflow.Map("jobs").Entries.SelectMany(j => ((CfnMap)j.Value).List("steps").Items.Cast<CfnMap>().Select(s => (j.Key, s)));

    public static IEnumerable<string> Uses(CfnMap workflow) =>
        Steps(workflow).Select(s => (s.Step["uses"] as CfnScalar)?.Value).OfType<string>();

    public static string RunText(CfnMap workflow) =>
        string.Join('\n', Steps(workflow).Select(s => (s.Step["run"] as CfnScalar)?.Value).OfType<string>());
}
