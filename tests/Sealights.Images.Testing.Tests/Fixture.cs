namespace Sealights.Images.Testing.Tests;

/// <summary>The log fixtures (see Fixtures/README.md), copied beside the test assembly.</summary>
internal static class Fixture
{
    public const string SealightsEmulator = "sealights-emulator.log";
    public const string AwsRie = "aws-rie-1.28.log";
    public const string Lambda = "lambda-cloudwatch.log";

    public static string Read(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));
}
