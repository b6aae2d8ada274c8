using System.Globalization;
using System.Text.RegularExpressions;
using Sealights.Images.Testing;

namespace Sealights.Images.Bench;

/// <summary>One measured configuration and its samples.</summary>
internal sealed class Configuration(string name, string image, IReadOnlyDictionary<string, string> environment)
{
    public string Name { get; } = name;
    public string Image { get; } = image;
    public IReadOnlyDictionary<string, string> Environment { get; } = environment;
    public List<double> InitMs { get; } = [];
    public List<double> ColdLatencyMs { get; } = [];
    public List<double> ColdCpuMs { get; } = [];
    public List<double> MemoryMb { get; } = [];
    public List<double> WarmMemoryMb { get; } = [];
    public List<double> WarmLatencyMs { get; } = [];
    public List<double> WarmDurationMs { get; } = [];
    public List<double> PostRuntimeMs { get; } = [];
    public List<double> ColdPostRuntimeMs { get; } = [];
    public List<double> PostRuntimeInOrder { get; } = [];
    public List<double> AgentReadyMs { get; } = [];
    public List<double> AgentRssMb { get; } = [];
    // The agent's CPU time (user + system) over its whole life, from its SHUTDOWN line: cold starts, and the warm container.
    public List<double> AgentCpuMs { get; } = [];
    public List<double> WarmAgentCpuMs { get; } = [];
    public List<double> Events { get; } = [];
    public List<double> Kilobytes { get; } = [];
    public List<double> Methods { get; } = [];
}

/// <summary>The agent's own figures, from its log lines (this revision's and older ones').</summary>
internal static partial class AgentFigures
{
    public static void Read(string logs, Configuration configuration)
    {
        // Agent ready: registered with the Extensions API (Lambda starts the runtime after that),
        // or listening when the launcher registered for it (the runtime can connect from then on).
        if (Registered().Match(logs) is { Success: true } registered)
        {
            configuration.AgentReadyMs.Add(double.Parse(registered.Groups[1].Value, CultureInfo.InvariantCulture));
        }
        else if (Listening().Match(logs) is { Success: true } listening)
        {
            configuration.AgentReadyMs.Add(double.Parse(listening.Groups[1].Value, CultureInfo.InvariantCulture));
        }
        else if (Ready().Match(logs) is { Success: true } ready)
        {
            configuration.AgentReadyMs.Add(double.Parse(ready.Groups[1].Value, CultureInfo.InvariantCulture));
        }
        if (Collected().Match(logs) is { Success: true } collected)
        {
            configuration.Methods.Add(double.Parse(collected.Groups["methods"].Value, CultureInfo.InvariantCulture));
            configuration.Events.Add(double.Parse(collected.Groups["events"].Value, CultureInfo.InvariantCulture));
            configuration.Kilobytes.Add(double.Parse(collected.Groups["kb"].Value, CultureInfo.InvariantCulture));
            configuration.AgentRssMb.Add(double.Parse(collected.Groups["rss"].Value, CultureInfo.InvariantCulture));
        }
        if (AgentCpu(logs) is { } cpu)
        {
            configuration.AgentCpuMs.Add(cpu);
        }
    }

    /// <summary>The agent's WARN and ERROR lines and its SHUTDOWN summary.</summary>
    public static IEnumerable<string> Noteworthy(string logs) =>
        LogLines.Of(logs).Where(l => l.Contains("[sealights-agent]", StringComparison.Ordinal)
            && (l.Contains(" WARN ", StringComparison.Ordinal) || l.Contains(" ERROR ", StringComparison.Ordinal) || l.Contains("SHUTDOWN", StringComparison.Ordinal)));

    /// <summary>The agent's CPU time over its life, when its SHUTDOWN line says it (revisions since 2026-12-07).</summary>
    public static double? AgentCpu(string logs) =>
        CollectedCpu().Match(logs) is { Success: true } match ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    /// <summary>
    /// What the agent spent per warm invocation: its warm container's CPU less a cold start's (the
    /// same start, first invocation and shutdown), over the warm invocations. Null without both.
    /// </summary>
    public static double? PerWarmInvocation(Configuration configuration, int warm) =>
        configuration.WarmAgentCpuMs.Count > 0 && configuration.AgentCpuMs.Count > 0 && warm > 0
            ? (Statistics.Median(configuration.WarmAgentCpuMs) - Statistics.Median(configuration.AgentCpuMs)) / warm
            : null;

    [GeneratedRegex(@"and registered ([0-9.]+) ms after")]
    private static partial Regex Registered();

    [GeneratedRegex(@"and listening ([0-9.]+) ms after the launcher started, which registered")]
    private static partial Regex Listening();

    [GeneratedRegex(@"\[sealights-agent\] INFO ready (\d+) ms after the process started")]
    private static partial Regex Ready();

    [GeneratedRegex(@"collected (?<methods>\d+) application methods .*?: (?<events>\d+) events, (?<kb>\d+) KB, .*agent peak RSS (?<rss>[0-9.]+) MB")]
    private static partial Regex Collected();

    [GeneratedRegex(@"collected \d+ application methods .*agent peak RSS [0-9.]+ MB, CPU (\d+) ms")]
    private static partial Regex CollectedCpu();
}
