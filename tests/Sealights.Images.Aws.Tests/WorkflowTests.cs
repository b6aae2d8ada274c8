using System.Text.RegularExpressions;
using Sealights.Images.Testing;

namespace Sealights.Images.Aws.Tests;

/// <summary>The workflows: valid for GitHub (@action-validator/cli), actions pinned by commit,
/// least permissions, AWS only through OIDC, and each one calling the repository's own script.</summary>
public sealed class WorkflowTests
{
    public static TheoryData<string> WorkflowNames() => new(Workflows.Files().Select(Path.GetFileName).OfType<string>());

    [Fact]
    public void The_four_workflows_exist()
    {
        Assert.Equal(["ci.yml", "rebuild.yml", "release.yml", "staleness.yml"], Workflows.Files().Select(Path.GetFileName));
    }

    [Theory]
    [MemberData(nameof(WorkflowNames))]
    public async Task The_workflow_passes_action_validator(string name)
    {
        var result = await ActionValidator(Path.Combine(Workflows.Folder, name));

        Assert.True(result.ExitCode == 0, $"action-validator {name}: exit {result.ExitCode}\n{result.Output}");
    }

    [Fact]
    public async Task Action_validator_rejects_a_broken_workflow()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("sl-workflow-").FullName, "broken.yml");
        await File.WriteAllTextAsync(file, "on: push\njobs:\n  build:\n    runs-on: ubuntu-24.04\n    stepz:\n      - run: true\n");

        var result = await ActionValidator(file);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("stepz", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(WorkflowNames))]
    public void Every_action_is_pinned_by_a_full_commit_digest(string name)
    {
        var uses = Workflows.Uses(Workflows.Load(name)).ToList();

        Assert.NotEmpty(uses);
        Assert.All(uses, u => Assert.Matches("^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$", u));
        // The version each digest stands for is written next to it, for people and for updates.
        var text = File.ReadAllText(Path.Combine(Workflows.Folder, name));
        Assert.All(uses, u => Assert.Matches(Regex.Escape(u) + @" # v\d+\.\d+\.\d+", text));
    }

    [Theory]
    [MemberData(nameof(WorkflowNames))]
    public void Permissions_are_least_and_AWS_is_reached_through_OIDC_only(string name)
    {
        var workflow = Workflows.Load(name);
        var top = workflow["permissions"];
        Assert.NotNull(top);
        AssertNoWriteBut(top!, []);
        foreach (var (job, node) in workflow.Map("jobs").Entries)
        {
            var definition = (CfnMap)node;
            var uses = definition.List("steps").Items.Cast<CfnMap>().Select(s => (s["uses"] as CfnScalar)?.Value ?? "").ToList();
            var assumesRole = uses.Any(u => u.StartsWith("aws-actions/configure-aws-credentials@", StringComparison.Ordinal));
            var allowed = new List<string>();
            if (assumesRole)
            {
                allowed.Add("id-token");
            }
            if (name == "staleness.yml")
            {
                allowed.Add("issues");
            }
            if (definition["permissions"] is { } permissions)
            {
                AssertNoWriteBut(permissions, allowed);
            }
            if (assumesRole)
            {
                Assert.Equal("write", (definition.Map("permissions")["id-token"] as CfnScalar)?.Value);
            }
        }
        foreach (var (_, step) in Workflows.Steps(workflow))
        {
            if (step["with"] is CfnMap with)
            {
                Assert.DoesNotContain(with.Keys, k => k is "aws-access-key-id" or "aws-secret-access-key" or "aws-session-token");
                if (((CfnScalar)step["uses"]!).Value.StartsWith("aws-actions/configure-aws-credentials@", StringComparison.Ordinal))
                {
                    Assert.StartsWith("${{ vars.", with.Text("role-to-assume"), StringComparison.Ordinal);
                }
                if (((CfnScalar)step["uses"]!).Value.StartsWith("actions/checkout@", StringComparison.Ordinal))
                {
                    Assert.Equal("false", with.Text("persist-credentials"));
                }
            }
        }
        Assert.DoesNotContain("secrets.AWS_", File.ReadAllText(Path.Combine(Workflows.Folder, name)), StringComparison.Ordinal);
    }

    [Fact]
    public void Each_workflow_runs_the_repository_s_own_script()
    {
        Assert.Contains("bash .ci/run", Workflows.RunText(Workflows.Load("ci.yml")), StringComparison.Ordinal);
        Assert.Contains("scripts/rebuild-image.sh", Workflows.RunText(Workflows.Load("rebuild.yml")), StringComparison.Ordinal);
        Assert.Contains("scripts/publish-index.sh", Workflows.RunText(Workflows.Load("rebuild.yml")), StringComparison.Ordinal);
        Assert.Contains("scripts/check-deployed-images.sh", Workflows.RunText(Workflows.Load("staleness.yml")), StringComparison.Ordinal);
        Assert.Contains("scripts/pack-release.sh", Workflows.RunText(Workflows.Load("release.yml")), StringComparison.Ordinal);
        foreach (var file in Workflows.Files())
        {
            foreach (Match script in Regex.Matches(File.ReadAllText(file), @"(?:scripts|\.ci)/[\w./-]+"))
            {
                Assert.True(File.Exists(RepositoryPaths.Combine(script.Value.Split('/'))), $"{Path.GetFileName(file)} runs {script.Value}, which does not exist");
            }
        }
    }

    [Fact]
    public void The_rebuild_runs_on_a_schedule_and_on_demand_for_each_line_and_architecture()
    {
        var workflow = Workflows.Load("rebuild.yml");
        var on = workflow.Map("on");
        Assert.NotEmpty(on.List("schedule").Items);
        Assert.Equal("boolean", on.Map("workflow_dispatch").Map("inputs").Map("force").Text("type"));
        var matrix = workflow.Map("jobs").Map("rebuild").Map("strategy").Map("matrix");
        Assert.Equal(["10", "8"], matrix.List("tag").Items.Select(i => ((CfnScalar)i).Value));
        Assert.Equal(["x86_64", "arm64"], matrix.List("arch").Items.Select(i => ((CfnScalar)i).Value));
        // build.sh and rebuild-image.sh refuse :8 on arm64; the matrix must not ask for it.
        var excluded = Assert.IsType<CfnMap>(Assert.Single(matrix.List("exclude").Items));
        Assert.Equal(("8", "arm64"), (excluded.Text("tag"), excluded.Text("arch")));
        Assert.Equal("false", workflow.Map("jobs").Map("rebuild").Map("strategy").Text("fail-fast"));

        // The index of each line comes after every architecture's job, even a failed one.
        var index = workflow.Map("jobs").Map("index");
        Assert.Equal("rebuild", index.Text("needs"));
        Assert.Equal("${{ !cancelled() }}", index.Text("if"));
        Assert.Equal(["10", "8"], index.Map("strategy").Map("matrix").List("tag").Items.Select(i => ((CfnScalar)i).Value));
        Assert.Contains("scripts/publish-index.sh --tag \"$TAG\"", Workflows.RunText(workflow), StringComparison.Ordinal);
    }

    [Fact]
    public void The_staleness_check_fails_the_run_and_then_opens_an_issue()
    {
        var workflow = Workflows.Load("staleness.yml");
        Assert.NotEmpty(workflow.Map("on").List("schedule").Items);
        var steps = Workflows.Steps(workflow).Select(s => s.Step).ToList();
        var check = Assert.Single(steps, s => s["id"] is CfnScalar { Value: "check" });
        Assert.Null(check["continue-on-error"]);
        var issue = Assert.Single(steps, s => (s["run"] as CfnScalar)?.Value.Contains("gh issue create", StringComparison.Ordinal) == true);
        Assert.Equal("failure() && steps.check.outcome == 'failure'", issue.Text("if"));
    }

    private static async Task<ProcessResult> ActionValidator(string file) =>
        await ProcessRunner.RunAsync("node", [AwsTools.ActionValidator(), file], TimeSpan.FromMinutes(1));

    private static void AssertNoWriteBut(CfnNode permissions, IReadOnlyCollection<string> allowed)
    {
        if (permissions is CfnScalar scalar)
        {
            Assert.Fail($"permissions: {scalar.Value} (name each permission instead)");
        }
        foreach (var (scope, value) in ((CfnMap)permissions).Entries)
        {
            var level = ((CfnScalar)value).Value;
            Assert.True(level != "write" || allowed.Contains(scope), $"permissions: {scope}: write is more than this job needs");
        }
    }
}
