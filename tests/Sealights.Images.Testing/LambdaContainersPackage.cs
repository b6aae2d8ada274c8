namespace Sealights.Images.Testing;

/// <summary>
/// The MSBuild package packed from msbuild/Sealights.Lambda.Containers into a local feed, and
/// throwaway consumer projects outside the repository (so none of its build settings leak in).
/// The version carries a content key: a changed package is never served from NuGet's cache.
/// </summary>
public static class LambdaContainersPackage
{
    public static string Feed => Path.Combine(RepositoryPaths.Artifacts, "it-feed");

    public static async Task<string> PackAsync()
    {
        // Everything the packed CLI is built from (the instrumenter and the probes' library too).
        string[] sources = ["msbuild/Sealights.Lambda.Containers", "src/Sealights.Images.Cli", "src/Sealights.Coverage", "src/Sealights.Coverage.Probes", "src/Sealights.Coverage.Instrumentation"];
        var key = ContentKey.Of(sources.Select(s => RepositoryPaths.Combine(s.Split('/'))).Where(Directory.Exists));
        var version = $"0.1.0-it.{key}";
        if (!File.Exists(Path.Combine(Feed, $"Sealights.Lambda.Containers.{version}.nupkg")))
        {
            await BuildLock.RunAsync(async () => (await ProcessRunner.RunAsync(
                "dotnet",
                ["pack", RepositoryPaths.Combine("msbuild", "Sealights.Lambda.Containers"), "-c", "Release", "-o", Feed, $"-p:PackageVersion={version}", "--nologo"],
                TimeSpan.FromMinutes(5))).EnsureSuccess("dotnet pack Sealights.Lambda.Containers"));
        }
        return version;
    }

    /// <summary>A copy of the sample function as a project that consumes the package (and, like the sample, Amazon.Lambda.Core from the stand-in feed).</summary>
    public static string CreateConsumer(string packageVersion, string targetFramework, string extraProperties = "") =>
        CreateConsumer(packageVersion, targetFramework, extraProperties, Path.Combine("samples", "SampleFunction"), "SampleFunction", StandInImages.SampleHandler);

    /// <summary>The same for another function's sources (<paramref name="sourceDirectory"/>'s *.cs, relative to the repository), as project <paramref name="projectName"/>.</summary>
    public static string CreateConsumer(string packageVersion, string targetFramework, string extraProperties, string sourceDirectory, string projectName, string handler)
    {
        var directory = Directory.CreateTempSubdirectory("sl-consumer-").FullName;
        foreach (var source in Directory.EnumerateFiles(RepositoryPaths.Combine(sourceDirectory), "*.cs"))
        {
            File.Copy(source, Path.Combine(directory, Path.GetFileName(source)));
        }
        File.WriteAllText(Path.Combine(directory, projectName + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>{targetFramework}</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <LambdaHandler>{handler}</LambdaHandler>
                <SealightsBaseImageRegistry>{StandInImages.Registry}</SealightsBaseImageRegistry>
                {extraProperties}
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Sealights.Lambda.Containers" Version="{packageVersion}" PrivateAssets="all" />
                <PackageReference Include="Amazon.Lambda.Core" Version="{FunctionPublisher.AmazonLambdaCoreVersion}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{Feed}" />
                <add key="local-standins" value="{FunctionPublisher.StandInFeed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local"><package pattern="Sealights.Lambda.Containers" /></packageSource>
                <packageSource key="local-standins"><package pattern="Amazon.Lambda.Core" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        return directory;
    }
}
