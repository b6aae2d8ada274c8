using System.Text.RegularExpressions;
using Sealights.Images.Testing;
using Xunit.Abstractions;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// The published agent must load on Amazon Linux 2023 (glibc 2.34), not just on this Debian
/// build machine (glibc 2.36): no newer symbol versions, no library the AWS base lacks; on
/// x86_64 and on arm64 (cross-compiled against Debian's aarch64 glibc, also 2.36).
/// </summary>
public sealed partial class AgentBinaryTests(ITestOutputHelper output)
{
    private static readonly Version NewestAllowedGlibc = new(2, 34);

    private static readonly HashSet<string> AllowedLibraries =
        ["libc.so.6", "libm.so.6", "libz.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"];

    [Theory]
    [InlineData("linux-x64")]
    [InlineData("linux-arm64")]
    public async Task The_agent_needs_nothing_newer_than_Amazon_Linux_2023_has(string rid)
    {
        var binary = await CoverageImages.PublishAgentAsync(rid);

        var symbols = (await ProcessRunner.RunAsync("readelf", ["--dyn-syms", "--wide", binary], TimeSpan.FromMinutes(1))).EnsureSuccess("readelf --dyn-syms");
        var dynamic = (await ProcessRunner.RunAsync("readelf", ["--dynamic", binary], TimeSpan.FromMinutes(1))).EnsureSuccess("readelf --dynamic");

        var glibcVersions = GlibcVersion().Matches(symbols.StdOut).Select(m => Version.Parse(m.Groups[1].Value)).Distinct().Order().ToList();
        var libraries = Needed().Matches(dynamic.StdOut).Select(m => m.Groups[1].Value).ToList();
        output.WriteLine($"glibc symbol versions: {string.Join(", ", glibcVersions)}");
        output.WriteLine($"needed libraries: {string.Join(", ", libraries)}");

        Assert.NotEmpty(glibcVersions);
        Assert.All(glibcVersions, v => Assert.True(v <= NewestAllowedGlibc, $"GLIBC_{v} is newer than Amazon Linux 2023's glibc {NewestAllowedGlibc}"));
        Assert.NotEmpty(libraries);
        Assert.All(libraries, l => Assert.Contains(l, AllowedLibraries));
    }

    [GeneratedRegex(@"@+GLIBC_(\d+\.\d+(?:\.\d+)?)")]
    private static partial Regex GlibcVersion();

    [GeneratedRegex(@"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")]
    private static partial Regex Needed();
}
