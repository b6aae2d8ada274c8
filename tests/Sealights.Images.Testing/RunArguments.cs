using System.Globalization;
using DotNet.Testcontainers.Builders;

namespace Sealights.Images.Testing;

/// <summary>
/// The docker run flags the callers of <see cref="LambdaContainer"/> pass (mounts, platform, CPU
/// limit, stop grace), as Testcontainers settings; any other flag is refused rather than ignored.
/// </summary>
internal static class RunArguments
{
    public static ContainerBuilder Apply(ContainerBuilder builder, IEnumerable<string> arguments)
    {
        using var flags = arguments.GetEnumerator();
        while (flags.MoveNext())
        {
            var flag = flags.Current;
            var value = flags.MoveNext() ? flags.Current : throw new ArgumentException($"docker run {flag}: no value");
            var (before, after) = value.IndexOf(':') is var colon and >= 0 ? (value[..colon], value[(colon + 1)..]) : (value, "");
            builder = flag switch
            {
                "--volume" => builder.WithBindMount(before, after),
                "--tmpfs" => builder.WithCreateParameterModifier(p => (p.HostConfig!.Tmpfs ??= new Dictionary<string, string>())[before] = after),
                "--platform" => builder.WithCreateParameterModifier(p => p.Platform = value),
                "--cpus" => builder.WithCreateParameterModifier(p => p.HostConfig!.NanoCPUs = (long)(decimal.Parse(value, CultureInfo.InvariantCulture) * 1_000_000_000)),
                // Testcontainers' stop sends no timeout: the engine's stop honours the container's own.
                "--stop-timeout" => builder.WithCreateParameterModifier(p => p.StopTimeout = TimeSpan.FromSeconds(int.Parse(value, CultureInfo.InvariantCulture))),
                _ => throw new ArgumentException($"docker run {flag}: not supported by LambdaContainer"),
            };
        }
        return builder;
    }
}
