using Sealights.Images.Cli.Registry;

namespace Sealights.Images.Cli.Tests.Check;

/// <summary>WWW-Authenticate parameters as registries send them (the spec's examples, Docker Hub's and ECR's forms).</summary>
public sealed class AuthChallengeTests
{
    [Fact]
    public void Quoted_values_keep_their_commas_and_escapes()
    {
        var parameters = AuthChallenge.ParseParameters("realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:samalba/my-app:pull,push\"");

        Assert.Equal("https://auth.docker.io/token", parameters["realm"]);
        Assert.Equal("registry.docker.io", parameters["service"]);
        Assert.Equal("repository:samalba/my-app:pull,push", parameters["scope"]);
        Assert.Equal("a \"quoted\" realm", AuthChallenge.ParseParameters("realm=\"a \\\"quoted\\\" realm\"")["realm"]);
    }

    [Fact]
    public void Unquoted_values_spaces_and_case_are_tolerated()
    {
        var parameters = AuthChallenge.ParseParameters(" Realm=https://public.ecr.aws/token/ , Service=public.ecr.aws,error=\"invalid_token\"");

        Assert.Equal("https://public.ecr.aws/token/", parameters["realm"]);
        Assert.Equal("public.ecr.aws", parameters["service"]);
        Assert.Equal("invalid_token", parameters["error"]);
        Assert.Empty(AuthChallenge.ParseParameters(null));
    }
}
