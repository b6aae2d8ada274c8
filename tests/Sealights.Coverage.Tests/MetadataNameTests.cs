using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using Sealights.Coverage.Metadata;

namespace Sealights.Coverage.Tests;

/// <summary>Pieces of the catalog a C# fixture does not reach one by one: line spans of several bodies, nested type references.</summary>
public class MetadataNameTests
{
    private static readonly DocumentHandle First = MetadataTokens.DocumentHandle(1);
    private static readonly DocumentHandle Second = MetadataTokens.DocumentHandle(2);

    [Fact]
    public void Bodies_in_the_same_document_widen_the_span_both_ways()
    {
        var lines = new SourceLines(First, 10, 20);

        Assert.Equal(new SourceLines(First, 5, 20), lines.Merge(new SourceLines(First, 5, 12)));
        Assert.Equal(new SourceLines(First, 10, 30), lines.Merge(new SourceLines(First, 12, 30)));
        Assert.Equal(new SourceLines(First, 8, 25), lines.Merge(new SourceLines(First, 8, 25)));
        Assert.Equal(lines, lines.Merge(new SourceLines(First, 12, 18)));
    }

    [Fact]
    public void A_body_in_another_document_leaves_the_span_as_it_is()
    {
        var lines = new SourceLines(First, 10, 20);

        Assert.Equal(lines, lines.Merge(new SourceLines(Second, 1, 100)));
    }

    [Fact]
    public void A_nested_type_reference_is_named_through_its_declaring_reference()
    {
        var builder = new MetadataBuilder();
        builder.AddModule(0, builder.GetOrAddString("M.dll"), builder.GetOrAddGuid(Guid.NewGuid()), default, default);
        var runtime = builder.AddAssemblyReference(builder.GetOrAddString("System.Runtime"), new Version(8, 0, 0, 0), default, default, 0, default);
        var outer = builder.AddTypeReference(runtime, builder.GetOrAddString("System"), builder.GetOrAddString("Environment"));
        // A nested reference's namespace is empty; its scope is the declaring type's reference.
        var nested = builder.AddTypeReference(outer, default, builder.GetOrAddString("SpecialFolder"));
        var blob = new BlobBuilder();
        new MetadataRootBuilder(builder).Serialize(blob, 0, 0);
        using var provider = MetadataReaderProvider.FromMetadataImage(blob.ToImmutableArray());
        var reader = provider.GetMetadataReader();

        Assert.Equal("System.Environment+SpecialFolder", TypeNames.Of(reader, nested));
        Assert.Equal("System.Environment", TypeNames.Of(reader, outer));
    }
}
