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
