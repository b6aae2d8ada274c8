using System.Text.RegularExpressions;

namespace Sealights.Images.Testing;

/// <summary>
/// The test run this process belongs to, so that everything it makes in the Docker engine can be
/// removed by the run, and by nothing else (other checkouts and the bench use the engine at the
/// same time). Every container and image the helpers make carries <see cref="Label"/>; images
/// pulled from the registry (built by the SDK or images/lambda-dotnet/build.sh, unlabelled) are
/// listed in <see cref="PulledImagesFile"/>. scripts/test-leftovers.sh removes both and asserts
/// nothing of the run remains. The stand-in base images are no part of a run: they stay cached.
/// </summary>
public static partial class TestRun
{
    public const string LabelKey = "sealights.test-run";

    private static readonly Lock LedgerGate = new();

    static TestRun()
    {
        var given = Environment.GetEnvironmentVariable("SL_TEST_RUN");
        if (!string.IsNullOrEmpty(given))
        {
            // scripts/test.sh names the run and sweeps it after the last test assembly.
            Id = ValidId().IsMatch(given) ? given : throw new InvalidOperationException($"SL_TEST_RUN='{given}': expected [a-z0-9][a-z0-9_.-]{{0,63}}");
            return;
        }
        // A process on its own (dotnet test of one project, the bench) is its own run and sweeps it at exit.
        Id = $"p{Environment.ProcessId}-{Guid.NewGuid():N}"[..24];
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Sweep();
    }

    /// <summary>The run's id: SL_TEST_RUN, else one for this process. Part of every tag the helpers build.</summary>
    public static string Id { get; }

    /// <summary>The label (key=value) on every container and image of this run.</summary>
    public static string Label => $"{LabelKey}={Id}";

    /// <summary>One image reference a line: what the run pulled into the engine.</summary>
    public static string PulledImagesFile => Path.Combine(RepositoryPaths.Artifacts, "test-runs", Id + ".pulled");

    /// <summary>Records an image the run pulled (or had built and pushed by a script) for the sweep.</summary>
    public static void RecordPulled(string reference)
    {
        lock (LedgerGate)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(PulledImagesFile)!);
            File.AppendAllText(PulledImagesFile, reference + "\n");
        }
    }

    private static void Sweep()
    {
        var result = ProcessRunner.RunAsync(
            "bash", [RepositoryPaths.Combine("scripts", "test-leftovers.sh"), Id], TimeSpan.FromMinutes(2))
            .GetAwaiter().GetResult();
        if (result.ExitCode != 0)
        {
            Console.Error.WriteLine(result.Output);
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_.-]{0,63}$")]
    private static partial Regex ValidId();
}
