using System.Text.Json;

namespace Sealights.Images.Aws.Tests;

/// <summary>ecr.yaml read as CloudFormation reads it: what the repository promises.</summary>
public sealed class EcrTemplateTests
{
    // The tags scripts/rebuild-image.sh and publish-index.sh push (RebuildScriptTests checks real ones against the rules too).
    private static readonly string[] MovingTags = ["10", "8", "10-x86_64", "10-arm64", "8-x86_64"];
    private static readonly string[] ReleaseTags =
        ["10-0.1.0-x86_64-20261207T045000Z", "10-0.1.0-arm64-20261207T045000Z", "8-0.1.0-x86_64-20261207T045000Z", "8-1.2.0-rc.1-arm64-20270101T000000Z"];

    private static CfnMap Repository => Templates.Resource(Templates.Ecr, "Repository").Map("Properties");

    [Fact]
    public void Images_are_scanned_on_push_and_encrypted()
    {
        Assert.Equal("true", Repository.Map("ImageScanningConfiguration").Text("ScanOnPush"));
        var encryption = Repository.Map("EncryptionConfiguration")["EncryptionType"] as CfnMap;
        var branches = Assert.IsType<CfnList>(encryption?["Fn::If"]).Items.Skip(1).Select(b => ((CfnScalar)b).Value);
        Assert.Equal(["KMS", "AES256"], branches);
    }

    [Fact]
    public void Release_tags_are_immutable_and_only_the_moving_tags_move()
    {
        Assert.Equal("IMMUTABLE_WITH_EXCLUSION", Repository.Text("ImageTagMutability"));
        var filters = Repository.List("ImageTagMutabilityExclusionFilters").Items.Cast<CfnMap>().ToList();
        Assert.All(filters, f => Assert.Equal("WILDCARD", f.Text("ImageTagMutabilityExclusionFilterType")));
        var patterns = filters.Select(f => f.Text("ImageTagMutabilityExclusionFilterValue")).ToList();
        // PutImageTagMutability and CreateRepository take one to five filters (the CloudFormation spec does not say).
        Assert.InRange(filters.Count, 1, 5);

        Assert.All(MovingTags, tag => Assert.Contains(patterns, p => EcrWildcard.Matches(p, tag)));
        Assert.All(ReleaseTags, tag => Assert.DoesNotContain(patterns, p => EcrWildcard.Matches(p, tag)));
    }

    [Fact]
    public void The_lifecycle_policy_expires_untagged_images_and_keeps_N_releases_per_line_and_architecture()
    {
        var text = Templates.SubstituteDefaults(Templates.Ecr, Repository.Map("LifecyclePolicy")["LifecyclePolicyText"]!);
        using var policy = JsonDocument.Parse(text);
        var rules = policy.RootElement.GetProperty("rules").EnumerateArray().ToList();
        var keep = int.Parse(Templates.Default(Templates.Ecr, "KeepReleases"));
        var days = int.Parse(Templates.Default(Templates.Ecr, "UntaggedExpiryDays"));

        Assert.Equal(rules.Count, rules.Select(r => r.GetProperty("rulePriority").GetInt32()).Distinct().Count());
        Assert.All(rules, r => Assert.Equal("expire", r.GetProperty("action").GetProperty("type").GetString()));
        var untagged = Assert.Single(rules, r => r.GetProperty("selection").GetProperty("tagStatus").GetString() == "untagged").GetProperty("selection");
        Assert.Equal("sinceImagePushed", untagged.GetProperty("countType").GetString());
        Assert.Equal("days", untagged.GetProperty("countUnit").GetString());
        Assert.Equal(days, untagged.GetProperty("countNumber").GetInt32());

        var tagged = rules.Select(r => r.GetProperty("selection")).Where(s => s.GetProperty("tagStatus").GetString() == "tagged").ToList();
        Assert.All(tagged, s =>
        {
            Assert.Equal("imageCountMoreThan", s.GetProperty("countType").GetString());
            Assert.Equal(keep, s.GetProperty("countNumber").GetInt32());
            // Several patterns in one rule select only images that match all of them: one each.
            Assert.Single(s.GetProperty("tagPatternList").EnumerateArray());
        });
        var patterns = tagged.Select(s => s.GetProperty("tagPatternList")[0].GetString()!).ToList();
        Assert.All(ReleaseTags, tag => Assert.Single(patterns, p => EcrWildcard.Matches(p, tag)));
        Assert.All(MovingTags, tag => Assert.DoesNotContain(patterns, p => EcrWildcard.Matches(p, tag)));
        Assert.DoesNotContain(rules, r => r.GetProperty("selection").GetProperty("tagStatus").GetString() == "any");
    }

    [Fact]
    public void Lambda_pulls_only_for_functions_of_this_or_the_consuming_accounts_and_CI_only_reads()
    {
        var statements = PolicyStatements().ToList();
        Assert.NotEmpty(statements);
        string[] readActions = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];
        foreach (var statement in statements)
        {
            Assert.Equal("Allow", statement.Text("Effect"));
            var actions = statement.List("Action").Items.Select(a => ((CfnScalar)a).Value).ToList();
            Assert.All(actions, a => Assert.Contains(a, readActions));
            var principal = statement.Map("Principal");
            if (principal["Service"] is CfnScalar service)
            {
                Assert.Equal("lambda.amazonaws.com", service.Value);
                var sourceArn = statement.Map("Condition").Map("StringLike")["aws:sourceArn"];
                Assert.NotNull(sourceArn);
                Assert.All(Templates.Scalars(sourceArn!).Where(s => s.Value.Contains("lambda", StringComparison.Ordinal)),
                    s => Assert.Contains(":function:*", s.Value, StringComparison.Ordinal));
            }
            else
            {
                Assert.Equal("ConsumerAccountIds", ((CfnMap)principal["AWS"]!).Text("Ref"));
            }
        }
        Assert.Contains(statements, s => s.Text("Sid") == "LambdaPullThisAccount");
        Assert.Contains(statements, s => s.Text("Sid") == "ConsumerAccountsLambdaPull");
        Assert.Contains(statements, s => s.Text("Sid") == "ConsumerAccountsRead");
        Assert.DoesNotContain(Templates.Scalars(Repository["RepositoryPolicyText"]!), s => s.Value == "*");
    }

    [Fact]
    public void The_outputs_export_the_name_the_URI_and_the_ARN()
    {
        var outputs = Templates.Ecr.Map("Outputs");
        var expected = new Dictionary<string, string>
        {
            ["RepositoryName"] = "Ref",
            ["RepositoryUri"] = "Fn::GetAtt",
            ["RepositoryArn"] = "Fn::GetAtt",
        };
        foreach (var (name, function) in expected)
        {
            var output = outputs.Map(name);
            Assert.Equal(function, ((CfnMap)output["Value"]!).Intrinsic);
            Assert.Equal("${AWS::StackName}-" + name, ((CfnScalar)output.Map("Export").Map("Name")["Fn::Sub"]!).Value);
        }
        Assert.Equal(["Repository", "RepositoryUri"], ((CfnList)outputs.Map("RepositoryUri").Map("Value")["Fn::GetAtt"]!).Items.Select(i => ((CfnScalar)i).Value));
        Assert.Equal(["Repository", "Arn"], ((CfnList)outputs.Map("RepositoryArn").Map("Value")["Fn::GetAtt"]!).Items.Select(i => ((CfnScalar)i).Value));
    }

    [Fact]
    public void The_publisher_role_is_for_the_repository_s_main_branch_through_OIDC_and_can_push_only_here()
    {
        var role = Templates.Resource(Templates.Ecr, "PublisherRole");
        Assert.Equal("HasPublisher", role.Text("Condition"));
        Assert.Equal("HasPublisher", Templates.Ecr.Map("Outputs").Map("PublisherRoleArn").Text("Condition"));
        var properties = role.Map("Properties");
        Assert.Null(properties["ManagedPolicyArns"]);

        var trust = Assert.Single(properties.Map("AssumeRolePolicyDocument").List("Statement").Items.Cast<CfnMap>());
        Assert.Equal("sts:AssumeRoleWithWebIdentity", trust.Text("Action"));
        Assert.EndsWith(":oidc-provider/token.actions.githubusercontent.com", ((CfnScalar)trust.Map("Principal").Map("Federated")["Fn::Sub"]!).Value, StringComparison.Ordinal);
        var claims = trust.Map("Condition").Map("StringEquals");
        Assert.Equal("sts.amazonaws.com", claims.Text("token.actions.githubusercontent.com:aud"));
        Assert.Equal("repo:${GitHubRepository}:ref:refs/heads/main", ((CfnScalar)claims.Map("token.actions.githubusercontent.com:sub")["Fn::Sub"]!).Value);

        var statements = properties.List("Policies").Items.Cast<CfnMap>()
            .SelectMany(p => p.Map("PolicyDocument").List("Statement").Items.Cast<CfnMap>()).ToList();
        foreach (var statement in statements)
        {
            Assert.Equal("Allow", statement.Text("Effect"));
            var actions = statement["Action"] is CfnList list ? list.Items.Select(a => ((CfnScalar)a).Value).ToList() : [statement.Text("Action")];
            Assert.All(actions, a => Assert.StartsWith("ecr:", a, StringComparison.Ordinal));
            Assert.DoesNotContain(actions, a => a.Contains('*') || a.StartsWith("ecr:Delete", StringComparison.Ordinal) || a.StartsWith("ecr:Set", StringComparison.Ordinal));
            if (statement["Resource"] is CfnScalar { Value: "*" })
            {
                Assert.Equal(["ecr:GetAuthorizationToken"], actions);
            }
            else
            {
                Assert.Equal(["Repository", "Arn"], ((CfnList)statement.Map("Resource")["Fn::GetAtt"]!).Items.Select(i => ((CfnScalar)i).Value));
                Assert.Contains("ecr:PutImage", actions);
            }
        }
    }

    [Fact]
    public void Images_outlive_the_stack()
    {
        var repository = Templates.Resource(Templates.Ecr, "Repository");
        Assert.Equal("Retain", repository.Text("DeletionPolicy"));
        Assert.Equal("Retain", repository.Text("UpdateReplacePolicy"));
        Assert.Equal("false", Repository.Text("EmptyOnDelete"));
    }

    /// <summary>The policy's statements, conditional ones (Fn::If with AWS::NoValue) included.</summary>
    private static IEnumerable<CfnMap> PolicyStatements()
    {
        foreach (var item in Repository.Map("RepositoryPolicyText").List("Statement").Items)
        {
            if (item is CfnMap { Intrinsic: "Fn::If" } conditional)
            {
                var branches = ((CfnList)conditional["Fn::If"]!).Items;
                Assert.Equal("AWS::NoValue", ((CfnMap)branches[2]).Text("Ref"));
                yield return (CfnMap)branches[1];
            }
            else
            {
                yield return (CfnMap)item;
            }
        }
    }
}
