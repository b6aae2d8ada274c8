using System.Reflection;
using System.Runtime.CompilerServices;
using Xunit.Abstractions;

namespace Sealights.Coverage.Instrumentation.Tests;

/// <summary>
/// (a) The rewritten IL is valid, without ILVerify: the JIT imports every body of the instrumented
/// assemblies (an invalid body throws <see cref="InvalidProgramException"/>), and the corner-case
/// fixture runs its own assertions instrumented, as a process under its deps.json.
/// </summary>
public sealed class IlCorrectnessTests(ITestOutputHelper output)
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    [Theory]
    [InlineData(Inputs.Corners)]
    [InlineData(Inputs.CoverageFixture)]
    [InlineData(Inputs.AgentFixture)]
    [InlineData(Inputs.Sample)]
    public void Every_method_of_an_instrumented_assembly_compiles(string name)
    {
        using var folder = Inputs.Instrumented(name);
        var context = new IsolatedLoad(folder.Path);
        try
        {
            var assembly = context.LoadFile(name);
            Assert.NotNull(assembly.GetType("<SealightsProbes>"));
            var compiled = 0;
            var notInstantiable = 0;
            foreach (var type in assembly.GetTypes())
            {
                foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
                {
                    if (method.IsAbstract || method.GetMethodBody() is null)
                    {
                        continue;
                    }

                    // Non-generic code once; generic code over a value type and a reference type (shared code).
                    var arity = type.GetGenericArguments().Length + (method.IsGenericMethodDefinition ? method.GetGenericArguments().Length : 0);
                    Type[][] instantiations = arity == 0 ? [[]] : [[.. Enumerable.Repeat(typeof(int), arity)], [.. Enumerable.Repeat(typeof(string), arity)]];
                    foreach (var instantiation in instantiations)
                    {
                        if (!Satisfies(type, method, instantiation))
                        {
                            notInstantiable++;
                            continue;
                        }

                        try
                        {
                            RuntimeHelpers.PrepareMethod(method.MethodHandle, instantiation.Length == 0 ? null : instantiation.Select(t => t.TypeHandle).ToArray());
                            compiled++;
                        }
                        catch (InvalidProgramException e)
                        {
                            Assert.Fail($"{type}.{method} over [{string.Join(',', instantiation.Select(t => t.Name))}]: {e.Message}");
                        }
                    }
                }
            }

            output.WriteLine($"{name}: {compiled} method instantiations compiled, {notInstantiable} generic instantiations refused by constraints");
            Assert.True(compiled > 20, $"only {compiled} methods compiled");
        }
        finally
        {
            context.Unload();
        }
    }

    [Theory]
    [InlineData("tiered (default)", "1")]
    [InlineData("fully optimized, inlining on", "0")]
    public void The_instrumented_corner_cases_pass_their_own_checks(string mode, string tieredCompilation)
    {
        using var folder = Inputs.CornersFolder();
        var plain = Inputs.Run("dotnet", [folder.File(Inputs.Corners + ".dll")]);
        Assert.True(plain.ExitCode == 0, plain.Output);

        var result = new PublishFolderInstrumenter(ProbesAssembly.Default()).Instrument(folder.Path);
        Assert.Equal(InstrumentationOutcome.Instrumented, Assert.Single(result.Assemblies).Outcome);

        var (exitCode, text) = Inputs.Run("dotnet", [folder.File(Inputs.Corners + ".dll")], new Dictionary<string, string> { ["DOTNET_TieredCompilation"] = tieredCompilation });
        output.WriteLine($"{mode}:\n{text}");
        Assert.True(exitCode == 0, text);
        Assert.Contains("all 15 checks passed", text);
    }

    [Fact]
    public void A_strong_named_netstandard_library_is_instrumented_and_loads()
    {
        // Mono.Cecil.Rocks from its package: strong-named, netstandard2.0 (so RuntimeTypeHandle comes
        // through netstandard), with a portable PDB. The rewrite invalidates the signature; .NET does not check it.
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var source = Path.Combine(packages, "mono.cecil", "0.11.6", "lib", "netstandard2.0");
        using var folder = new TempFolder();
        File.Copy(Path.Combine(source, "Mono.Cecil.Rocks.dll"), folder.File("Mono.Cecil.Rocks.dll"));
        File.Copy(Path.Combine(source, "Mono.Cecil.Rocks.pdb"), folder.File("Mono.Cecil.Rocks.pdb"));
        var token = AssemblyName.GetAssemblyName(folder.File("Mono.Cecil.Rocks.dll")).GetPublicKeyToken();

        var result = new AssemblyInstrumenter(ProbesAssembly.Default()).Instrument(folder.File("Mono.Cecil.Rocks.dll"), folder.Path);

        Assert.True(result.Outcome == InstrumentationOutcome.Instrumented, result.Describe());
        var context = new IsolatedLoad(folder.Path);
        try
        {
            var assembly = context.LoadFile("Mono.Cecil.Rocks");
            Assert.Equal(token, assembly.GetName().GetPublicKeyToken());
            var compiled = 0;
            foreach (var method in assembly.GetTypes().Where(t => !t.ContainsGenericParameters)
                .SelectMany(t => t.GetMethods(Declared).Cast<MethodBase>().Concat(t.GetConstructors(Declared)))
                .Where(m => !m.IsAbstract && !m.ContainsGenericParameters && m.GetMethodBody() is not null))
            {
                RuntimeHelpers.PrepareMethod(method.MethodHandle);
                compiled++;
            }

            Assert.Equal(result.Probes, ProbeIl.Probes(assembly).Count);

            // A probed method runs: the marker's initializer registers through [netstandard]RuntimeTypeHandle.
            var makeArray = assembly.GetType("Mono.Cecil.Rocks.TypeReferenceRocks", throwOnError: true)!.GetMethod("MakeArrayType", [typeof(Mono.Cecil.TypeReference)])!;
            Assert.IsType<Mono.Cecil.ArrayType>(makeArray.Invoke(null, [new Mono.Cecil.TypeReference("N", "T", null, null)]));
            var hits = (int[])assembly.GetType("<SealightsProbes>", throwOnError: true)!.GetField("Hits", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!;
            Assert.Equal(1, hits[(makeArray.MetadataToken & 0x00FFFFFF) - 1]);
            output.WriteLine($"{result.Describe()}; {compiled} methods compiled; {hits.Count(h => h != 0)} hit");
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void The_instrumented_agent_fixture_runs_every_scenario_as_the_plain_one()
    {
        using var folder = Inputs.AgentFixtureFolder();
        var dll = folder.File(Inputs.AgentFixture + ".dll");
        var plain = Inputs.Run("dotnet", [dll, "all"], stdin: "late\nidle\nexit\n");
        Assert.Single(new PublishFolderInstrumenter(ProbesAssembly.Default()).Instrument(folder.Path).Probed);

        var instrumented = Inputs.Run("dotnet", [dll, "all"], stdin: "late\nidle\nexit\n");

        Assert.Equal(0, plain.ExitCode);
        Assert.Equal(plain, instrumented);
        Assert.Contains("done late", instrumented.Output);
    }

    [Fact]
    public void The_instrumented_sample_function_answers_every_payload_as_the_plain_one()
    {
        string[] payloads =
        [
            """{"action":"echo","message":"covered"}""",
            """{"action":"quote","items":[{"sku":"A","qty":2},{"sku":"B","qty":1}],"coupon":"TEN"}""",
            """{"action":"quote","items":[],"coupon":null}""",
            """{"action":"info"}""",
            """{"action":"wait","ms":1}""",
            """{"action":"nope"}""",
            """{"action":""}""",
            "not json",
        ];
        using var plainFolder = Inputs.CopyOf(Inputs.Sample);
        using var instrumentedFolder = Inputs.Instrumented(Inputs.Sample);
        var plain = Answers(plainFolder.Path, payloads);
        var instrumented = Answers(instrumentedFolder.Path, payloads);

        Assert.Equal(plain, instrumented);
        output.WriteLine(string.Join('\n', instrumented));
    }

    // The handler called as the runtime client calls it: one Function object, Handle(Stream) per payload.
    private static List<string> Answers(string folder, string[] payloads)
    {
        var context = new IsolatedLoad(folder);
        try
        {
            var type = context.LoadFile(Inputs.Sample).GetType("SampleFunction.Function", throwOnError: true)!;
            var function = Activator.CreateInstance(type)!;
            var handle = type.GetMethod("Handle")!;
            return payloads.Select(payload =>
            {
                using var input = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(payload));
                using var answer = (Stream)handle.Invoke(function, [input])!;
                return new StreamReader(answer).ReadToEnd();
            }).ToList();
        }
        finally
        {
            context.Unload();
        }
    }

    // The constraints of the type's and the method's generic parameters allow this instantiation.
    private static bool Satisfies(Type type, MethodBase method, Type[] instantiation)
    {
        try
        {
            var typeArity = type.GetGenericArguments().Length;
            if (typeArity > 0)
            {
                type.MakeGenericType(instantiation[..typeArity]);
            }

            if (method is MethodInfo { IsGenericMethodDefinition: true } generic)
            {
                generic.MakeGenericMethod(instantiation[typeArity..]);
            }

            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
