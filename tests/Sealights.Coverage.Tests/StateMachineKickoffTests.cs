using System.Reflection.Metadata;
using Sealights.Coverage.Metadata;
using static Sealights.Coverage.Tests.SyntheticAssembly;

namespace Sealights.Coverage.Tests;

/// <summary>
/// The order of authority StateMachineKickoffs documents (PDB row, then the
/// <c>[...StateMachine(typeof(X))]</c> attribute, then a unique sibling of the type's name), on
/// metadata where the three disagree; a C# build never makes them disagree.
/// </summary>
public class StateMachineKickoffTests
{
    private static SyntheticAttribute Names(string stateMachine) =>
        new(AttributeKind.Referenced, CompilerServices, "AsyncStateMachineAttribute", TypeOf(stateMachine));

    private static string? KickoffOf(Image image, SyntheticMethod member)
    {
        var kickoffs = new StateMachineKickoffs(image.Metadata, image.Pdb);
        return kickoffs.TryGetKickoff(member.Handle, out var kickoff)
            ? image.Metadata.GetString(image.Metadata.GetMethodDefinition(kickoff).Name)
            : null;
    }

    [Fact]
    public void The_pdb_row_wins_over_the_attribute_and_the_name()
    {
        var assembly = new SyntheticAssembly();
        var outer = assembly.Type("Ns", "Outer");
        outer.Method("Run", Names("Ns.Outer+<Run>d__1"));
        var start = outer.Method("Start");
        var moveNext = assembly.Type("", "<Run>d__1", outer).Method("MoveNext");
        using var image = assembly.BuildWithPdb((moveNext, start));

        Assert.Equal("Start", KickoffOf(image, moveNext));
    }

    [Fact]
    public void Without_a_pdb_row_the_attribute_wins_over_the_name()
    {
        var assembly = new SyntheticAssembly();
        var outer = assembly.Type("Ns", "Outer");
        outer.Method("Run");
        // Assembly-qualified, as a typeof of a type of another assembly would be written.
        outer.Method("Begin", Names("Ns.Outer+<Run>d__1, Synthetic, Version=1.0.0.0"));
        var stateMachine = assembly.Type("", "<Run>d__1", outer);
        var moveNext = stateMachine.Method("MoveNext");
        var setStateMachine = stateMachine.Method("SetStateMachine");
        using var image = assembly.BuildWithPdb();

        Assert.Equal("Begin", KickoffOf(image, moveNext));
        Assert.Equal("Begin", KickoffOf(image, setStateMachine));
    }

    [Fact]
    public void An_attribute_naming_another_state_machine_is_not_taken()
    {
        var assembly = new SyntheticAssembly();
        var outer = assembly.Type("Ns", "Outer");
        outer.Method("Other", Names("Ns.Outer+<Other>d__2"));
        outer.Method("Run");
        var moveNext = assembly.Type("", "<Run>d__1", outer).Method("MoveNext");
        using var image = assembly.Build();

        Assert.Equal("Run", KickoffOf(image, moveNext));
    }

    [Fact]
    public void Without_an_attribute_the_only_sibling_of_the_name_is_the_kickoff()
    {
        var assembly = new SyntheticAssembly();
        var outer = assembly.Type("Ns", "Outer");
        outer.Method("Walk");
        outer.Method("Run");
        var moveNext = assembly.Type("", "<Run>d__1", outer).Method("MoveNext");
        using var image = assembly.Build();

        Assert.Equal("Run", KickoffOf(image, moveNext));
    }

    [Fact]
    public void Overloads_without_an_attribute_have_no_kickoff_by_name()
    {
        var assembly = new SyntheticAssembly();
        var outer = assembly.Type("Ns", "Outer");
        outer.Method("Run");
        outer.Method("Run");
        var moveNext = assembly.Type("", "<Run>d__1", outer).Method("MoveNext");
        using var image = assembly.Build();

        Assert.Null(KickoffOf(image, moveNext));
    }

    [Fact]
    public void A_top_level_type_named_like_a_state_machine_has_no_kickoff()
    {
        var assembly = new SyntheticAssembly();
        assembly.Type("Ns", "Run");
        var moveNext = assembly.Type("Ns", "<Run>d__1").Method("MoveNext");
        using var image = assembly.Build();

        Assert.Null(KickoffOf(image, moveNext));
    }

    [Theory]
    [InlineData("<Run>b__0_0")]
    [InlineData("<Run>g__Local|0_0")]
    [InlineData("<>c__DisplayClass0_0")]
    [InlineData("Run")]
    public void Only_types_named_as_state_machines_are_looked_up(string typeName)
    {
        var assembly = new SyntheticAssembly();
        var outer = assembly.Type("Ns", "Outer");
        outer.Method("Run", Names("Ns.Outer+" + typeName));
        var member = assembly.Type("", typeName, outer).Method("MoveNext");
        using var image = assembly.Build();

        Assert.Null(KickoffOf(image, member));
    }

    [Fact]
    public void A_pdb_row_is_read_for_each_state_machine_and_ordinary_methods_stay_without()
    {
        var assembly = new SyntheticAssembly();
        var outer = assembly.Type("Ns", "Outer");
        var first = outer.Method("First");
        var second = outer.Method("Second");
        var plain = outer.Method("Plain");
        var moveNextA = assembly.Type("", "<A>d__1", outer).Method("MoveNext");
        var moveNextB = assembly.Type("", "<B>d__2", outer).Method("MoveNext");
        using var image = assembly.BuildWithPdb((moveNextA, first), (moveNextB, second));

        Assert.Equal(("First", "Second", (string?)null), (KickoffOf(image, moveNextA), KickoffOf(image, moveNextB), KickoffOf(image, plain)));
    }
}
