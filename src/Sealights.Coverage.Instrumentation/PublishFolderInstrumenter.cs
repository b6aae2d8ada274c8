namespace Sealights.Coverage.Instrumentation;

/// <summary>What instrumenting a publish folder did.</summary>
/// <param name="Assemblies">One entry per application assembly (the set <c>scan</c> maps), by file.</param>
/// <param name="Refused">True when some file could not be instrumented: then nothing in the folder was changed.</param>
public sealed record PublishFolderResult(IReadOnlyList<InstrumentationResult> Assemblies, bool Refused)
{
    /// <summary>Assemblies that carry probes after the run (new or from an earlier run).</summary>
    public IEnumerable<InstrumentationResult> Probed =>
        Assemblies.Where(a => a.Outcome is InstrumentationOutcome.Instrumented or InstrumentationOutcome.AlreadyInstrumented);
}

/// <summary>
/// Instruments a publish folder in place (<c>sl-images instrument DIR</c>, a CI step before
/// <c>docker build</c>): the application assemblies <see cref="ApplicationAssemblyFinder"/> finds,
/// the Probes library copied beside them and added to the app's <c>*.deps.json</c>, and
/// <c>sealights-instrumented.json</c>. Running it again changes nothing.
/// </summary>
public sealed class PublishFolderInstrumenter(ProbesAssembly probes)
{
    /// <exception cref="InstrumentationException">The folder is one the probes cannot work in (EventSources off, a broken deps.json).</exception>
    public PublishFolderResult Instrument(string directory)
    {
        directory = Path.GetFullPath(directory);
        if (RuntimeConfigCheck.Problem(directory) is { } problem)
        {
            throw new InstrumentationException(problem);
        }

        var candidates = ApplicationAssemblyFinder.Find(directory).Assemblies
            .Where(a => !string.Equals(Path.GetFileName(a.Path), ProbesAssembly.FileName, StringComparison.OrdinalIgnoreCase))
            .ToList();

        // All or nothing: a folder with one file that cannot take probes (ReadyToRun publish) is
        // left untouched rather than half instrumented.
        var refusals = candidates
            .Select(a => (a.Path, Check: InputCheck.Of(a.Path, File.ReadAllBytes(a.Path))))
            .Where(c => c.Check.Refusal is not null)
            .ToList();
        if (refusals.Count > 0)
        {
            var results = candidates.Select(a => refusals.FirstOrDefault(r => r.Path == a.Path) is { Check: { } check }
                    ? new InstrumentationResult(a.Path, a.Name, InstrumentationOutcome.Refused, check.Refusal)
                    : new InstrumentationResult(a.Path, a.Name, InstrumentationOutcome.Skipped, "left as it is: another assembly of the folder cannot be instrumented"))
                .ToList();
            return new PublishFolderResult(results, Refused: true);
        }

        var instrumenter = new AssemblyInstrumenter(probes);
        var outcome = new PublishFolderResult(candidates.Select(a => instrumenter.Instrument(a.Path, directory)).ToList(), Refused: false);
        if (outcome.Assemblies.Any(a => a.Outcome == InstrumentationOutcome.Refused))
        {
            // Refused while rewriting (after the checks above): earlier files are already rewritten,
            // which is harmless (they run, their hits are read), but the run reports the failure.
            outcome = outcome with { Refused = true };
        }

        if (outcome.Probed.Any())
        {
            CopyProbes(directory);
            foreach (var depsJson in Directory.EnumerateFiles(directory, "*.deps.json").Order(StringComparer.Ordinal))
            {
                DependencyManifestEditor.AddProbes(depsJson, probes);
            }

            InstrumentedManifest.Write(directory, outcome.Probed);
        }

        return outcome;
    }

    private void CopyProbes(string directory)
    {
        var target = Path.Combine(directory, ProbesAssembly.FileName);
        var bytes = File.ReadAllBytes(probes.Path);
        if (!File.Exists(target) || !File.ReadAllBytes(target).AsSpan().SequenceEqual(bytes))
        {
            File.WriteAllBytes(target, bytes);
        }
    }
}
