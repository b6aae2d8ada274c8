using Sealights.Coverage.Metadata;

namespace Sealights.Coverage.Tests;

public class CompilerGeneratedNameTests
{
    // The kind is passed by name: the enum is internal and xunit theories must be public.
    [Theory]
    [InlineData("<Run>b__3_1", "Lambda", "Run", "", "3_1")]
    [InlineData("<Run>b__1", "Lambda", "Run", "", "1")]
    [InlineData("<Run>g__Helper|3_0", "LocalFunction", "Run", "Helper", "3_0")]
    [InlineData("<<Main>$>g__Gen|1", "LocalFunction", "<Main>$", "Gen", "1")]
    [InlineData("<RunAsync>d__4", "StateMachine", "RunAsync", "", "4")]
    [InlineData("<<Main>g__Local|0_0>d", "StateMachine", "<Main>g__Local|0_0", "", "")]
    [InlineData("<Map>d__2`1", "StateMachine", "Map", "", "2")]
    [InlineData("<>c__DisplayClass4_0", "DisplayClass", "", "", "4_0")]
    [InlineData("<>c__DisplayClass4_0`1", "DisplayClass", "", "", "4_0")]
    [InlineData("<>c", "Other", "", "", "")]
    [InlineData("<Name>k__BackingField", "Other", "Name", "", "BackingField")]
    // The module's own type: nothing after the brackets.
    [InlineData("<Module>", "Other", "Module", "", "")]
    // A local function name without an ordinal is read, not cut.
    [InlineData("<Run>g__Helper", "LocalFunction", "Run", "Helper", "")]
    // Without a container there is no source method to name a lambda, local function or state machine by.
    [InlineData("<>b__0_1", "Other", "", "", "0_1")]
    [InlineData("<>g__F|0_1", "Other", "", "", "F|0_1")]
    [InlineData("<>d__2", "Other", "", "", "2")]
    public void Parses_roslyn_names(string metadataName, string kind, string container, string name, string ordinal)
    {
        Assert.True(CompilerGeneratedName.TryParse(metadataName, out var parsed));

        Assert.Equal(new CompilerGeneratedName(Enum.Parse<CompilerGeneratedKind>(kind), container, name, ordinal), parsed);
    }

    [Theory]
    [InlineData("Run")]
    [InlineData("op_Addition")]
    [InlineData("<Unbalanced")]
    [InlineData("")]
    public void Ordinary_names_are_not_compiler_generated(string metadataName)
    {
        Assert.False(CompilerGeneratedName.TryParse(metadataName, out _));
    }

    [Fact]
    public void Display_class_yields_the_containing_method_ordinal()
    {
        Assert.True(CompilerGeneratedName.TryParse("<>c__DisplayClass12_3", out var closure));

        Assert.Equal("12", closure.MethodOrdinal());
        Assert.True(CompilerGeneratedName.TryParse("<>c__DisplayClass7", out var unnumbered));
        Assert.Equal("7", unnumbered.MethodOrdinal());
    }
}
