using System.Text.RegularExpressions;

namespace Sealights.Images.Aws.Tests;

/// <summary>deploy/function.yaml read as CloudFormation reads it: the image, the handlers, the
/// Sealights settings without a plaintext token, and an execution role that can only write its logs.</summary>
public sealed class FunctionTemplateTests
{
    private static readonly CfnMap Template = Templates.Function;

    private static List<(string Name, CfnMap Properties)> Functions() =>
        Templates.ResourcesOfType(Template, "AWS::Lambda::Function").Select(f => (f.Name, f.Resource.Map("Properties"))).ToList();

    [Fact]
    public void Two_functions_run_one_image_pinned_by_digest_from_the_repository_ecr_yaml_exports()
    {
        var functions = Functions();
        Assert.Equal(2, functions.Count);
        foreach (var (_, properties) in functions)
        {
            Assert.Equal("Image", properties.Text("PackageType"));
            Assert.Null(properties["Handler"]);
            Assert.Null(properties["Runtime"]);
            var sub = (CfnList)properties.Map("Code").Map("ImageUri")["Fn::Sub"]!;
            Assert.Equal("${RepositoryUri}@${ImageDigest}", ((CfnScalar)sub.Items[0]).Value);
            var import = ((CfnMap)sub.Items[1]).Map("RepositoryUri").Map("Fn::ImportValue");
            var exportName = ((CfnScalar)import["Fn::Sub"]!).Value;
            Assert.Equal("${RepositoryStackName}-RepositoryUri", exportName);
        }
        // The name imported is the name ecr.yaml exports (its stack name in front).
        var exported = ((CfnScalar)Templates.Ecr.Map("Outputs").Map("RepositoryUri").Map("Export").Map("Name")["Fn::Sub"]!).Value;
        Assert.Equal("${AWS::StackName}-RepositoryUri", exported);

        var digest = new Regex(Template.Map("Parameters").Map("ImageDigest").Text("AllowedPattern"));
        Assert.Matches(digest, "sha256:" + new string('a', 64));
        Assert.DoesNotMatch(digest, "latest");
        Assert.DoesNotMatch(digest, "sha256:" + new string('a', 63));
    }

    [Fact]
    public void Each_function_has_its_own_handler_and_the_image_architecture()
    {
        var parameters = Template.Map("Parameters");
        var handlers = Functions().Select(f =>
        {
            var command = Assert.Single(f.Properties.Map("ImageConfig").List("Command").Items);
            return parameters.Map(((CfnMap)command).Text("Ref")).Text("Default");
        }).ToList();
        Assert.Equal(2, handlers.Distinct().Count());
        Assert.All(handlers, h => Assert.Matches("^[^:]+::[^:]+::[^:]+$", h));

        Assert.All(Functions(), f => Assert.Equal("Architecture", ((CfnMap)Assert.Single(f.Properties.List("Architectures").Items)).Text("Ref")));
        Assert.Equal(["x86_64", "arm64"], parameters.Map("Architecture").List("AllowedValues").Items.Select(i => ((CfnScalar)i).Value));
    }

    [Fact]
    public void The_token_comes_from_Secrets_Manager_and_is_never_in_the_template()
    {
        foreach (var (name, properties) in Functions())
        {
            var variables = properties.Map("Environment").Map("Variables");
            var token = Assert.IsType<CfnMap>(variables["SL_TOKEN"]);
            Assert.Equal("{{resolve:secretsmanager:${SealightsTokenSecretArn}:SecretString}}", ((CfnScalar)token["Fn::Sub"]!).Value);
            Assert.Null(variables["SL_TOKEN_FILE"]);
            Assert.NotNull(variables["SL_BUILD_SESSION_ID"]);
            Assert.Equal("ImageDigest", ((CfnMap)variables["SL_IMAGE_DIGEST"]!).Text("Ref"));
            Assert.True(variables.Keys.All(k => k.StartsWith("SL_", StringComparison.Ordinal)), name);
        }
        var secret = Template.Map("Parameters").Map("SealightsTokenSecretArn");
        Assert.Null(secret["Default"]);
        var arn = new Regex(secret.Text("AllowedPattern"));
        Assert.Matches(arn, "arn:aws:secretsmanager:us-east-1:123456789012:secret:sealights/agent-token-AbCdEf");
        Assert.DoesNotMatch(arn, "eyJhbGciOiJIUzI1NiJ9.eyJzdWJqZWN0IjoiYSJ9.c2ln");

        // No JWT-shaped or token-named literal anywhere in either template.
        foreach (var path in Templates.Paths)
        {
            var scalars = Templates.Scalars(Templates.Load(path)).ToList();
            Assert.DoesNotContain(scalars, s => Regex.IsMatch(s.Value, @"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\."));
        }
    }

    [Fact]
    public void The_execution_role_can_write_its_own_two_log_groups_and_nothing_else()
    {
        var role = Templates.Resource(Template, "ExecutionRole").Map("Properties");
        Assert.Null(role["ManagedPolicyArns"]);
        var trust = Assert.Single(role.Map("AssumeRolePolicyDocument").List("Statement").Items.Cast<CfnMap>());
        Assert.Equal("lambda.amazonaws.com", trust.Map("Principal").Text("Service"));
        Assert.Equal("sts:AssumeRole", trust.Text("Action"));

        var statements = role.List("Policies").Items.Cast<CfnMap>()
            .SelectMany(p => p.Map("PolicyDocument").List("Statement").Items.Cast<CfnMap>()).ToList();
        var logGroups = Templates.ResourcesOfType(Template, "AWS::Logs::LogGroup").Select(g => g.Name).ToHashSet();
        Assert.Equal(2, logGroups.Count);
        foreach (var statement in statements)
        {
            Assert.Equal("Allow", statement.Text("Effect"));
            Assert.Equal(["logs:CreateLogStream", "logs:PutLogEvents"], statement.List("Action").Items.Select(a => ((CfnScalar)a).Value).Order());
            var resources = statement.List("Resource").Items.Cast<CfnMap>()
                .Select(r => ((CfnList)r["Fn::GetAtt"]!).Items.Select(i => ((CfnScalar)i).Value).ToArray()).ToList();
            Assert.All(resources, r => Assert.Equal("Arn", r[1]));
            Assert.Equal(logGroups, resources.Select(r => r[0]).ToHashSet());
        }
        Assert.DoesNotContain(Templates.Scalars(role), s => s.Value.Contains('*'));

        // Each function logs to one of those groups, and no two to the same.
        var used = Functions().Select(f => f.Properties.Map("LoggingConfig").Map("LogGroup").Text("Ref")).ToList();
        Assert.Equal(logGroups, used.ToHashSet());
        Assert.All(Functions(), f => Assert.Equal(["ExecutionRole", "Arn"], ((CfnList)f.Properties.Map("Role")["Fn::GetAtt"]!).Items.Select(i => ((CfnScalar)i).Value)));
    }
}
