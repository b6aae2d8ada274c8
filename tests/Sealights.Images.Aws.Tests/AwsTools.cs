using Sealights.Images.Testing;

namespace Sealights.Images.Aws.Tests;

/// <summary>
/// The pinned npm tools (scripts/aws-tools/package.json and its lock), installed by
/// scripts/aws-tools.sh (which scripts/prereqs.sh runs): idempotent, so the tests run it too and a
/// missing node, npm or registry fails the test with the script's reason rather than skipping it.
/// </summary>
public static class AwsTools
{
    private static readonly Lazy<string> InstallFolder = new(Install);

    public static string ServiceSpecDatabase() =>
        Path.Combine(InstallFolder.Value, "node_modules", "@aws-cdk", "aws-service-spec", "db.json.gz");

    public static string ActionValidator() =>
        Path.Combine(InstallFolder.Value, "node_modules", "@action-validator", "cli", "cli.mjs");

    private static string Install()
    {
        var result = ProcessRunner.RunAsync("bash", [RepositoryPaths.Combine("scripts", "aws-tools.sh")], TimeSpan.FromMinutes(5))
            .GetAwaiter().GetResult()
            .EnsureSuccess("scripts/aws-tools.sh (npm ci of the pinned tools)");
        return result.StdOut.Trim();
    }
}
