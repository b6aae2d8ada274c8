using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using Sealights.Coverage.Metadata;

namespace Sealights.Coverage.Tests;

/// <summary>Without a PDB state-machine row the kickoff is found from the [..StateMachine(typeof)] attribute or the name.</summary>
public class StateMachineFallbackTests
{
    [Theory]
    [InlineData("Fixture.Workflow", "RunAsync", "Fixture.Workflow+<RunAsync>d__*")]
    [InlineData("Fixture.Workflow", "Numbers", "Fixture.Workflow+<Numbers>d__*")]
    [InlineData("Fixture.Resource", "Guarded", "Fixture.Resource+<Guarded>d__*")]
    [InlineData("Fixture.Sequences", "Repeat", "Fixture.Sequences+<Repeat>d__*")]
    [InlineData("Fixture.Resource", "<WithAsyncLocal>g__Later|6_0", "Fixture.Resource+<<WithAsyncLocal>g__Later|*")]
    public void Finds_the_kickoff_without_the_pdb(string type, string kickoff, string stateMachine)
    {
        using var pe = new PEReader(File.OpenRead(Fixture.AssemblyPath));
        var metadata = pe.GetMetadataReader();
        var kickoffs = new StateMachineKickoffs(metadata, pdb: null);
        var moveNext = (MethodDefinitionHandle)MetadataTokens.EntityHandle(Fixture.Token(stateMachine, "MoveNext"));

        Assert.True(kickoffs.TryGetKickoff(moveNext, out var found));
        Assert.Equal(Fixture.Token(type, kickoff), MetadataTokens.GetToken(found));
    }

    [Fact]
    public void Ordinary_methods_have_no_kickoff()
    {
        using var pe = new PEReader(File.OpenRead(Fixture.AssemblyPath));
        var kickoffs = new StateMachineKickoffs(pe.GetMetadataReader(), pdb: null);
        var add = (MethodDefinitionHandle)MetadataTokens.EntityHandle(Fixture.Token("Fixture.Calculator", "Add"));

        Assert.False(kickoffs.TryGetKickoff(add, out _));
    }
}
