using System.Text;
using Sealights.Lambda.Agent.Diagnostics;

namespace Sealights.Lambda.Agent.Tests;

/// <summary>The Sealights-Coverage payload parser on hand-built payloads: the contract's encoding, and nothing read past a bound.</summary>
public sealed class CoveragePayloadsTests
{
    private static readonly Guid Mvid = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");

    [Fact]
    public void ModuleHits_AsTheContractEncodesThem()
    {
        var payload = ModuleHits(7, 2, "My.App", Mvid, 500, [0, 41, 499]);

        Assert.True(CoveragePayloads.TryReadModuleHits(payload, out var header, out var indices));

        Assert.Equal(new ModuleHitsHeader(7, 2, "My.App", Mvid, 500), header);
        Assert.Equal(12, indices.Length);
        Assert.Equal([0, 41, 499], [CoveragePayloads.IndexAt(indices, 0), CoveragePayloads.IndexAt(indices, 1), CoveragePayloads.IndexAt(indices, 2)]);
    }

    [Fact]
    public void ModuleHits_TruncatedAnywhere_IsRefused()
    {
        var payload = ModuleHits(1, 0, "App", Mvid, 10, [1, 2, 3]);
        for (var length = 0; length < payload.Length; length++)
        {
            Assert.False(CoveragePayloads.TryReadModuleHits(payload.AsSpan(0, length), out _, out _), $"accepted {length} of {payload.Length} bytes");
        }
    }

    [Theory]
    [InlineData(-4)]
    [InlineData(6)]
    [InlineData(16)]
    [InlineData(int.MaxValue)]
    public void ModuleHits_WithAnImpossibleIndicesLength_IsRefused(int length)
    {
        var payload = ModuleHits(1, 0, "App", Mvid, 10, [1, 2, 3]);
        BitConverter.GetBytes(length).CopyTo(payload, payload.Length - 16);

        Assert.False(CoveragePayloads.TryReadModuleHits(payload, out _, out _));
    }

    [Fact]
    public void ModuleHits_WithANameThatNeverEnds_IsRefused()
    {
        var name = Encoding.Unicode.GetBytes(new string('x', 3000));
        var payload = Concat(BitConverter.GetBytes(1), BitConverter.GetBytes(0), name);

        Assert.False(CoveragePayloads.TryReadModuleHits(payload, out _, out _));
    }

    [Fact]
    public void FlushCompleted_AndItsTruncations()
    {
        var payload = Concat(BitConverter.GetBytes(3), BitConverter.GetBytes(8), BitConverter.GetBytes(2), BitConverter.GetBytes(120_000));

        Assert.True(CoveragePayloads.TryReadFlushCompleted(payload, out var completed));
        Assert.Equal(new FlushCompletedPayload(3, 8, 2, 120_000), completed);
        Assert.False(CoveragePayloads.TryReadFlushCompleted(payload.AsSpan(0, 15), out _));
        Assert.False(CoveragePayloads.TryReadFlushCompleted(Concat(BitConverter.GetBytes(3), BitConverter.GetBytes(-1), BitConverter.GetBytes(2), BitConverter.GetBytes(1)), out _));
    }

    [Fact]
    public void FlushFailed_AndItsTruncation()
    {
        var payload = Concat(BitConverter.GetBytes(4), Encoding.Unicode.GetBytes("OutOfMemoryException\0"));

        Assert.True(CoveragePayloads.TryReadFlushFailed(payload, out var sequence, out var reason));
        Assert.Equal((4, "OutOfMemoryException"), (sequence, reason));
        Assert.False(CoveragePayloads.TryReadFlushFailed(payload.AsSpan(0, payload.Length - 2), out _, out _));
    }

    private static byte[] ModuleHits(int sequence, int chunk, string name, Guid mvid, int methodDefCount, int[] indices) =>
        Concat(
            BitConverter.GetBytes(sequence),
            BitConverter.GetBytes(chunk),
            Encoding.Unicode.GetBytes(name + "\0"),
            mvid.ToByteArray(),
            BitConverter.GetBytes(methodDefCount),
            BitConverter.GetBytes(indices.Length * 4),
            indices.SelectMany(BitConverter.GetBytes).ToArray());

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
