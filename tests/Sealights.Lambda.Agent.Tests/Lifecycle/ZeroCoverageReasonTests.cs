using Sealights.Lambda.Agent.Lifecycle;
using Sealights.Lambda.Agent.Tests.Infrastructure;

namespace Sealights.Lambda.Agent.Tests.Lifecycle;

/// <summary>The one line the agent prints at SHUTDOWN when an environment reported no method: the reason and the fix.</summary>
public sealed class ZeroCoverageReasonTests
{
    private static string TaskRootWith(params string[] files)
    {
        var root = Directory.CreateTempSubdirectory("sl-zero-").FullName;
        var source = Path.GetDirectoryName(FixtureBuilds.JitAssembly)!;
        foreach (var file in files)
        {
            File.Copy(Path.Combine(source, file), Path.Combine(root, file));
        }
        return root;
    }

    private const string Fixture = "Sealights.Lambda.Agent.Tests.Fixture";

    [Fact]
    public void Assemblies_without_PDBs_are_named_with_the_publish_setting_that_keeps_them()
    {
        var root = TaskRootWith($"{Fixture}.dll");

        var reason = ZeroCoverageReason.Explain(root, invocations: 3, runtimesConnected: 1);

        Assert.Equal($"the assemblies under {root} have no PDB ({Fixture}.dll): publish with portable PDBs (dotnet publish -p:DebugType=portable; Release builds and DebugType=none leave them out) and copy the .pdb files next to the .dll files in {root}", reason);
    }

    [Fact]
    public void A_task_root_without_the_functions_code_says_where_the_publish_output_goes()
    {
        var root = Directory.CreateTempSubdirectory("sl-zero-empty-").FullName;

        var reason = ZeroCoverageReason.Explain(root, invocations: 1, runtimesConnected: 1);

        Assert.Equal($"no application assembly found in {root} (no .dll there): copy the function's dotnet publish output, with its .pdb files, into {root}", reason);
    }

    [Fact]
    public void A_runtime_that_never_connected_points_at_the_line_that_says_why()
    {
        var root = TaskRootWith($"{Fixture}.dll", $"{Fixture}.pdb");

        var reason = ZeroCoverageReason.Explain(root, invocations: 2, runtimesConnected: 0);

        Assert.StartsWith("the function's runtime never connected to the agent", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Application_assemblies_with_PDBs_that_ran_nothing_are_named()
    {
        var root = TaskRootWith($"{Fixture}.dll", $"{Fixture}.pdb");

        var reason = ZeroCoverageReason.Explain(root, invocations: 2, runtimesConnected: 1);

        Assert.StartsWith($"none of the methods of {Fixture}.dll ran", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void No_invocation_is_its_own_reason()
    {
        Assert.Equal("no invocation ran in this environment", ZeroCoverageReason.Explain("/nonexistent", invocations: 0, runtimesConnected: 0));
    }
}
