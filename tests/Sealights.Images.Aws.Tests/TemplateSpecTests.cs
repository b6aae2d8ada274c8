namespace Sealights.Images.Aws.Tests;

/// <summary>Every template against the CloudFormation resource specification of npm's
/// @aws-cdk/aws-service-spec (pinned in scripts/aws-tools), and the validator itself against
/// templates that break each rule once.</summary>
public sealed class TemplateSpecTests
{
    public static TheoryData<string> TemplatePaths() => new(Templates.Paths);

    [Theory]
    [MemberData(nameof(TemplatePaths))]
    public void The_template_is_valid_against_the_current_resource_specification(string path)
    {
        var findings = new TemplateValidator(ResourceSpec.Current).Validate(Templates.Load(path));

        Assert.True(findings.Count == 0, $"{path}:\n{string.Join('\n', findings)}");
    }

    [Fact]
    public void The_specification_knows_the_ECR_tag_mutability_exclusions_the_repository_uses()
    {
        Assert.True(ResourceSpec.Current.ResourceCount > 1000, $"only {ResourceSpec.Current.ResourceCount} resource types: not the full specification");
        Assert.True(ResourceSpec.Current.TryGetResource("AWS::ECR::Repository", out var repository));
        var properties = repository.GetProperty("properties");
        Assert.True(properties.TryGetProperty("ImageTagMutabilityExclusionFilters", out _));
        var mutability = properties.GetProperty("ImageTagMutability").GetProperty("type").GetProperty("allowedValues").EnumerateArray().Select(v => v.GetString());
        Assert.Contains("IMMUTABLE_WITH_EXCLUSION", mutability);
    }

    [Theory]
    [InlineData("Type: AWS::ECR::Repositori", "resource type AWS::ECR::Repositori is not in the specification")]
    [InlineData("Type: AWS::ECR::Repository\n    Properties:\n      ScanOnPush: true", "unknown property 'ScanOnPush'")]
    [InlineData("Type: AWS::ECR::Repository\n    Properties:\n      ImageScanningConfiguration:\n        ScanOnPush: sometimes", "expected a boolean")]
    [InlineData("Type: AWS::ECR::Repository\n    Properties:\n      ImageTagMutability: FROZEN", "'FROZEN' is not one of")]
    [InlineData("Type: AWS::ECR::Repository\n    Properties:\n      EncryptionConfiguration:\n        KmsKey: k", "required property 'EncryptionType' is missing")]
    [InlineData("Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: [a, b]", "expected a string, found a list")]
    [InlineData("Type: AWS::Lambda::Function\n    Properties:\n      Role: r", "required property 'Code' is missing")]
    [InlineData("Type: AWS::Lambda::Function\n    Properties:\n      Role: r\n      Code: {ImageUri: u}\n      MemorySize: lots", "expected an integer")]
    [InlineData("Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: !GetAtt R.Uri", "has no attribute 'Uri'")]
    [InlineData("Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: !Ref Nowhere", "Ref to unknown 'Nowhere'")]
    [InlineData("Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: !Sub \"${Nowhere}-x\"", "Fn::Sub variable '${Nowhere}'")]
    [InlineData("Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: !If [Nowhere, a, b]", "known condition")]
    [InlineData("Type: AWS::ECR::Repository\n    Properties:\n      ImageTagMutability: !If [Always, IMMUTABLE, SOMETIMES]", "'SOMETIMES' is not one of")]
    public void The_validator_finds_what_breaks_the_specification(string resource, string expected)
    {
        var template = CfnYaml.Parse(new StringReader($"Conditions:\n  Always: !Equals [a, a]\nResources:\n  R:\n    {resource}\n"), "inline.yaml");

        var findings = new TemplateValidator(ResourceSpec.Current).Validate(template);

        Assert.Contains(findings, f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void The_YAML_reader_takes_the_short_forms_and_refuses_unknown_tags_and_duplicate_keys()
    {
        var template = CfnYaml.Parse(new StringReader("A: !GetAtt Db.Endpoint.Address\nB: !ImportValue\n  Fn::Sub: \"${S}-Uri\"\nC: !Not [!Equals [x, y]]\n"), "t.yaml");

        Assert.Equal(["Db", "Endpoint.Address"], ((CfnList)((CfnMap)template["A"]!)["Fn::GetAtt"]!).Items.Select(i => ((CfnScalar)i).Value));
        Assert.Equal("Fn::Sub", ((CfnMap)((CfnMap)template["B"]!)["Fn::ImportValue"]!).Intrinsic);
        Assert.Equal("Fn::Not", ((CfnMap)template["C"]!).Intrinsic);
        Assert.Throws<InvalidDataException>(() => CfnYaml.Parse(new StringReader("A: !Reff x\n"), "t.yaml"));
        Assert.Throws<YamlDotNet.Core.YamlException>(() => CfnYaml.Parse(new StringReader("A: 1\nA: 2\n"), "t.yaml"));
    }
}
