using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sealights.Coverage;
using Sealights.Coverage.Instrumentation;
using Sealights.Lambda.Agent.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Tests;

/// <summary>
/// A compiled assembly of more than 100,000 methods, instrumented by the real instrumenter and
/// all executed: one flush brings every method back through the 60 KB chunks (an EventPipe event
/// over 64 KB would be dropped without a word).
/// </summary>
[Collection(HeavyBuilds.Name)]
public sealed class GeneratedAssemblyTests(ITestOutputHelper output)
{
    private const int Classes = 101;
    private const int MethodsPerClass = 1000;

    [Fact]
    public async Task AnAssemblyOfMoreThan100kMethods_AllExecuted_ComesBackWhole()
    {
        var directory = Directory.CreateTempSubdirectory("sl-generated-");
        try
        {
            var clock = Stopwatch.StartNew();
            var assembly = await BuildAsync(directory.FullName);
            var built = clock.Elapsed;
            var result = new PublishFolderInstrumenter(ProbesAssembly.Default()).Instrument(Path.GetDirectoryName(assembly)!);
            Assert.False(result.Refused, string.Join("; ", result.Assemblies.Select(a => a.Describe())));
            var instrumented = clock.Elapsed - built;

            // The truth: every method written into the generated classes (each executed by "all"),
            // spelled from the documented id format, not read back through the agent's catalog.
            var expected = Enumerable.Range(0, Classes)
                .SelectMany(c => Enumerable.Range(0, MethodsPerClass)
                    .Select(m => string.Create(CultureInfo.InvariantCulture, $"Generated|Generated.C{c}|M{m}(System.Int32)"))
                    .Append(string.Create(CultureInfo.InvariantCulture, $"Generated|Generated.C{c}|RunAll()")))
                .ToHashSet(StringComparer.Ordinal);
            Assert.Equal(Classes * (MethodsPerClass + 1), expected.Count);

            await using var connected = await ConnectedFixture.StartAsync(output, assembly, "none", noInline: false);
            var (scope, fixture) = (connected.Scope, connected.Process);
            await fixture.RunAsync("all");
            var flushed = Stopwatch.StartNew();
            using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var hits = await scope.Collector.FlushAsync(budget.Token);
            var flush = flushed.Elapsed;

            var reported = hits.Select(h => h.Method.Id).Where(id => id.Contains("|Generated.C", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
            var statistics = scope.Collector.Statistics;
            scope.Print(
                $"generated assembly: {expected.Count} methods (built in {built.TotalSeconds:0.0} s, instrumented in {instrumented.TotalSeconds:0.0} s); "
                + $"one flush: {reported.Count} back in {flush.TotalMilliseconds:0} ms, {statistics.BytesRead / 1024} KB of stream, {statistics.EventsLost} events lost");
            Assert.Equal(expected.Order(StringComparer.Ordinal), reported.Order(StringComparer.Ordinal));
            Assert.Equal(1, statistics.ProbeFlushes);
            Assert.Equal(0, statistics.ProbeHitsDropped);
            Assert.Equal(0, statistics.EventsLost);
            // Every index is 4 bytes on the wire: at least 7 chunks of 60,000 bytes came through.
            Assert.True(statistics.BytesRead > expected.Count * 4L, $"{statistics.BytesRead} bytes cannot hold {expected.Count} indices");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Writes and builds a console program speaking the fixtures' stdin protocol ("ready", "done X").</summary>
    private static async Task<string> BuildAsync(string directory)
    {
        var project = Path.Combine(directory, "src");
        Directory.CreateDirectory(project);
        await File.WriteAllTextAsync(Path.Combine(project, "Generated.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <DebugType>portable</DebugType>
                <UseAppHost>false</UseAppHost>
                <ImplicitUsings>disable</ImplicitUsings>
              </PropertyGroup>
            </Project>
            """);
        var main = new StringBuilder();
        main.AppendLine("System.Console.WriteLine(\"ready\");");
        main.AppendLine("string? line;");
        main.AppendLine("while ((line = System.Console.ReadLine()) is not null && line != \"exit\")");
        main.AppendLine("{");
        main.AppendLine("    long sum = 0;");
        main.AppendLine("    if (line == \"all\")");
        main.AppendLine("    {");
        for (var c = 0; c < Classes; c++)
        {
            main.AppendLine(CultureInfo.InvariantCulture, $"        sum += Generated.C{c}.RunAll();");
        }
        main.AppendLine("    }");
        main.AppendLine("    System.Console.WriteLine(sum == -1 ? \"?\" : \"done \" + line);");
        main.AppendLine("}");
        await File.WriteAllTextAsync(Path.Combine(project, "Program.cs"), main.ToString());
        for (var c = 0; c < Classes; c++)
        {
            var source = new StringBuilder();
            source.AppendLine("namespace Generated;");
            source.AppendLine(CultureInfo.InvariantCulture, $"public static class C{c}");
            source.AppendLine("{");
            source.AppendLine("    public static long RunAll()");
            source.AppendLine("    {");
            source.AppendLine("        long sum = 0;");
            for (var m = 0; m < MethodsPerClass; m++)
            {
                source.AppendLine(CultureInfo.InvariantCulture, $"        sum += M{m}({m});");
            }
            source.AppendLine("        return sum;");
            source.AppendLine("    }");
            for (var m = 0; m < MethodsPerClass; m++)
            {
                source.AppendLine(CultureInfo.InvariantCulture, $"    public static int M{m}(int x) => x + {m};");
            }
            source.AppendLine("}");
            await File.WriteAllTextAsync(Path.Combine(project, $"C{c}.cs"), source.ToString());
        }

        var output = Path.Combine(directory, "out");
        var build = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "build", project, "-c", "Release", "-o", output, "-nologo" })
        {
            build.ArgumentList.Add(argument);
        }
        using var process = Process.Start(build)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"building the generated assembly failed:\n{await stdout}\n{await stderr}");
        return Path.Combine(output, "Generated.dll");
    }
}
