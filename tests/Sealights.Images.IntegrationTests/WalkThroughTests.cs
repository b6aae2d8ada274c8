using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// What a new user does with docs/getting-started.md: an existing function outside the
/// repository, the documented install commands, both recipes (Dockerfile and PublishContainer),
/// the local run and the coverage report, using only the shell blocks the page marks with
/// <c>&lt;!-- walkthrough: … --&gt;</c>, run as written (a page that drifts fails here). What the
/// test adds is declared here and nowhere in the page: the settings' values (free ports, the local
/// registry), a parent nuget.config with the stand-in Amazon.Lambda.Core (not on this package
/// mirror), a docker shim that labels what the page's docker build/run make with the test run,
/// and the lines between blocks that keep what it checks. The coverage-ready image is built
/// before (the page's precondition); the time of the page's commands is printed.
/// </summary>
public sealed partial class WalkThroughTests(ITestOutputHelper output)
{
    private static readonly string Page = RepositoryPaths.Combine("docs", "getting-started.md");
    private static readonly string[] Settings = ["SEALIGHTS_REGISTRY", "REGISTRY", "REPOSITORY", "FUNCTION_PORT", "RUNTIME_API_PORT", "COLLECTOR_PORT"];

    [Fact]
    public async Task A_new_user_gets_from_the_docs_to_which_of_their_methods_ran()
    {
        await StandInImages.EnsureBaseImagesAsync();
        await CoverageImages.BuildAndPushAsync("10");

        var blocks = Blocks(await File.ReadAllTextAsync(Page));
        // The page's order: settings, pack (in the clone), nuget.config and tool, 3a Dockerfile, 3b PublishContainer, 4 local run, local mode.
        Assert.Equal(["settings", "repository", "function", "function", "function", "function", "function"], blocks.Select(b => b.Where));
        var (settings, pack, install, dockerfile, publishContainer, run, localMode) = (blocks[0], blocks[1], blocks[2], blocks[3], blocks[4], blocks[5], blocks[6]);
        Assert.Equal(Settings.Order(StringComparer.Ordinal), ExportedNames(settings.Script).Order(StringComparer.Ordinal));

        var work = Directory.CreateTempSubdirectory("sl-walkthrough-").FullName;
        var function = CreateFunction(work);
        var (registryHost, repository) = StandInImages.ContainerTarget("it/walkthrough");
        var values = new Dictionary<string, string>
        {
            ["SEALIGHTS_REGISTRY"] = StandInImages.Registry,
            ["REGISTRY"] = registryHost,
            ["REPOSITORY"] = repository,
            ["FUNCTION_PORT"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
            ["RUNTIME_API_PORT"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
            ["COLLECTOR_PORT"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
        };
        TestRun.RecordPulled($"{registryHost}/{repository}:publish-container");

        // The pack (in the clone) under the test process's build lock: other tests pack and build the same projects.
        var settingsScript = "set -euo pipefail\n" + string.Concat(values.Select(v => $"export {v.Key}={v.Value}\n"));
        var environmentFile = Path.Combine(work, "environment.sh");
        var packScript = new StringBuilder(settingsScript);
        var rest = new StringBuilder(settingsScript).Append($"source '{environmentFile}'\n");
        void Step(StringBuilder script, string name, string directory, string text) => script.Append(
            $"echo \"::step {name} $(date +%s%3N)\"\ncd '{directory}'\n{text}\n");
        Step(packScript, "pack", RepositoryPaths.Root, pack.Script);
        packScript.Append($"echo \"::step packed $(date +%s%3N)\"\nexport -p > '{environmentFile}'\n");
        Step(rest, "install", function, install.Script);
        Step(rest, "dockerfile", function, dockerfile.Script);
        Step(rest, "run-dockerfile", function, run.Script);
        rest.Append("cp coverage/report/lcov.info ../lcov-dockerfile.info\n");
        Step(rest, "publish-container", function, publishContainer.Script);
        Step(rest, "run-publish-container", function, run.Script);
        rest.Append("cp coverage/report/lcov.info ../lcov-publish-container.info\n");
        Step(rest, "local-mode", function, localMode.Script);
        rest.Append("cp hits/hits.jsonl ../hits-local-mode.jsonl\necho \"::step end $(date +%s%3N)\"\n");
        await File.WriteAllTextAsync(Path.Combine(work, "pack.sh"), packScript.ToString());
        await File.WriteAllTextAsync(Path.Combine(work, "walkthrough.sh"), rest.ToString());

        var environment = new Dictionary<string, string> { ["PATH"] = $"{DockerShim(work)}:{Environment.GetEnvironmentVariable("PATH")}" };
        var watch = Stopwatch.StartNew();
        var packed = await BuildLock.RunAsync(() => ProcessRunner.RunAsync("bash", [Path.Combine(work, "pack.sh")], TimeSpan.FromMinutes(20), environment: environment));
        output.WriteLine(packed.Output);
        Assert.True(packed.ExitCode == 0, $"the walk-through's pack failed (exit {packed.ExitCode}); see the output above");
        var result = await ProcessRunner.RunAsync("bash", [Path.Combine(work, "walkthrough.sh")], TimeSpan.FromMinutes(20), environment: environment);
        watch.Stop();
        output.WriteLine(result.Output);
        output.WriteLine(Timing(packed.StdOut + result.StdOut, watch.Elapsed));
        Assert.True(result.ExitCode == 0, $"the walk-through failed (exit {result.ExitCode}); see the output above");

        // Both recipes: the handler's paths that ran are covered, the ones that did not are not.
        foreach (var recipe in new[] { "dockerfile", "publish-container" })
        {
            var hits = Lcov(Path.Combine(work, $"lcov-{recipe}.info"));
            foreach (var ran in new[] { "MyFunction.Function.FunctionHandler(", "MyFunction.Function.Greet(", "MyFunction.OrderService.Total(", "MyFunction.OrderService.Price(" })
            {
                Assert.True(hits.Single(h => h.Key.StartsWith(ran, StringComparison.Ordinal)).Value > 0, $"{recipe}: {ran} did not report");
            }
            foreach (var idle in new[] { "MyFunction.OrderService.Empty(", "MyFunction.OrderService.Refund(", "MyFunction.OrderService.Cancel(" })
            {
                Assert.Equal(0, hits.Single(h => h.Key.StartsWith(idle, StringComparison.Ordinal)).Value);
            }
        }
        // Local mode, no token: the file had the invocation's methods (its empty order) by the page's grep.
        var localHits = DebugHitsFile.ReadMethods(Path.Combine(work, "hits-local-mode.jsonl"));
        Assert.Contains(localHits, m => m.StartsWith("MyFunction|MyFunction.Function|FunctionHandler(", StringComparison.Ordinal));
        Assert.Contains(localHits, m => m.StartsWith("MyFunction|MyFunction.OrderService|Empty(", StringComparison.Ordinal));
        Assert.Contains("\"method\":\"MyFunction|MyFunction.OrderService|Empty(", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("[sealights-agent]", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("MyFunction.Function", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void The_product_docs_link_only_inside_the_repository()
    {
        string[] pages = ["README.md", "docs/getting-started.md", "docs/configuration.md", "docs/troubleshooting.md", "msbuild/Sealights.Lambda.Containers/README.md", "src/Sealights.Images.Cli/README.md"];
        foreach (var page in pages)
        {
            var path = RepositoryPaths.Combine(page.Split('/'));
            foreach (Match link in RelativeLink().Matches(File.ReadAllText(path)))
            {
                var target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, link.Groups["target"].Value.Split('#')[0]));
                Assert.True(target.StartsWith(RepositoryPaths.Root.TrimEnd('/') + "/", StringComparison.Ordinal) && (File.Exists(target) || Directory.Exists(target)),
                    $"{page}: link {link.Value} points outside the repository or to nothing");
            }
        }
    }

    private sealed record Block(string Where, string Script);

    private static List<Block> Blocks(string markdown) =>
        MarkedBlock().Matches(markdown).Select(m => new Block(m.Groups["where"].Value, m.Groups["script"].Value)).ToList();

    private static IEnumerable<string> ExportedNames(string script) =>
        ExportLine().Matches(script).SelectMany(m => m.Groups["assignments"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(a => a.Split('=')[0]);

    private static Dictionary<string, int> Lcov(string file) =>
        File.ReadLines(file).Where(l => l.StartsWith("FNDA:", StringComparison.Ordinal))
            .Select(l => l["FNDA:".Length..].Split(',', 2))
            .ToDictionary(p => p[1], p => int.Parse(p[0], CultureInfo.InvariantCulture));

    private static string Timing(string stdout, TimeSpan total)
    {
        var steps = StepLine().Matches(stdout).Select(m => (Name: m.Groups["name"].Value, At: long.Parse(m.Groups["at"].Value, CultureInfo.InvariantCulture))).ToList();
        var lines = steps.Zip(steps.Skip(1), (a, b) => $"  {a.Name}: {(b.At - a.At) / 1000.0:0.0} s");
        return $"walk-through commands: {total.TotalSeconds:0} s in all\n{string.Join('\n', lines)}";
    }

    /// <summary>docker with the run's label on what build, run and create make, so the run's sweep finds it.</summary>
    private static string DockerShim(string work)
    {
        var bin = Directory.CreateDirectory(Path.Combine(work, "bin")).FullName;
        var real = Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(d => Path.Combine(d, "docker")).First(File.Exists);
        var shim = Path.Combine(bin, "docker");
        File.WriteAllText(shim, $"""
            #!/usr/bin/env bash
            case "${"{"}1:-{"}"}" in
              build|run|create) sub="$1"; shift; exec '{real}' "$sub" --label '{TestRun.Label}' "$@" ;;
            esac
            exec '{real}' "$@"

            """);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the walk-through runs bash and docker on Linux");
        }
        File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return bin;
    }

    /// <summary>The user's existing function (not the page's business): a class library with a typed input and ILambdaContext, some paths never called.</summary>
    private static string CreateFunction(string work)
    {
        // Amazon.Lambda.Core is not on this machine's package mirror: the stand-in, from a nuget.config above the function's.
        File.WriteAllText(Path.Combine(work, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="local-standins" value="{FunctionPublisher.StandInFeed}" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local-standins"><package pattern="Amazon.Lambda.Core" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        var directory = Directory.CreateDirectory(Path.Combine(work, "MyFunction")).FullName;
        File.WriteAllText(Path.Combine(directory, "MyFunction.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <GenerateRuntimeConfigurationFiles>true</GenerateRuntimeConfigurationFiles>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Amazon.Lambda.Core" Version="{FunctionPublisher.AmazonLambdaCoreVersion}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "Function.cs"), """
            using System.Text.Json;
            using Amazon.Lambda.Core;

            [assembly: LambdaSerializer(typeof(MyFunction.WebJsonSerializer))]

            namespace MyFunction;

            public sealed record Item(string Sku, int Quantity);
            public sealed record Order(string Name, List<Item> Items);
            public sealed record Receipt(string Greeting, int Count, decimal Total);

            public class Function
            {
                private readonly OrderService _orders = new();

                public Receipt FunctionHandler(Order order, ILambdaContext context)
                {
                    context.Logger.LogInformation($"order for {order.Name}");
                    if (order.Items.Count == 0)
                    {
                        return _orders.Empty(order.Name);
                    }
                    return new Receipt(Greet(order.Name), order.Items.Count, _orders.Total(order.Items));
                }

                private static string Greet(string name) => $"hello {name}";
            }

            public sealed class OrderService
            {
                public decimal Total(IEnumerable<Item> items)
                {
                    decimal total = 0;
                    foreach (var item in items)
                    {
                        total += Price(item);
                    }
                    return total;
                }

                private static decimal Price(Item item) => item.Quantity * (item.Sku == "A" ? 2.5m : 1m);

                public Receipt Empty(string name) => new($"nothing for {name}", 0, 0);

                public decimal Refund(Order order) => -Total(order.Items);

                public void Cancel(Order order) => throw new InvalidOperationException($"order for {order.Name} cancelled");
            }

            public sealed class WebJsonSerializer : ILambdaSerializer
            {
                private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

                public T Deserialize<T>(Stream requestStream) => JsonSerializer.Deserialize<T>(requestStream, Options)!;

                public void Serialize<T>(T response, Stream responseStream) => JsonSerializer.Serialize(responseStream, response, Options);
            }
            """);
        return directory;
    }

    [GeneratedRegex(@"<!-- walkthrough: (?<where>[a-z]+) -->\s*\n```bash\n(?<script>.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex MarkedBlock();

    [GeneratedRegex(@"^export (?<assignments>(?:[A-Z_]+=\S+ ?)+)", RegexOptions.Multiline)]
    private static partial Regex ExportLine();

    [GeneratedRegex(@"^::step (?<name>\S+) (?<at>\d+)$", RegexOptions.Multiline)]
    private static partial Regex StepLine();

    [GeneratedRegex(@"\]\((?<target>(?!https?:|#|mailto:)[^)\s]+)\)")]
    private static partial Regex RelativeLink();
}
