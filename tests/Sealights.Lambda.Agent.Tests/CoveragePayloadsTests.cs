using System.Text;
using Sealights.Lambda.Agent.Diagnostics;
using Sealights.Lambda.Agent.Diagnostics.NetTrace;
using Sealights.Lambda.Agent.MethodHits;

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

    [Fact]
    public void InvocationEnded_AndItsTruncation()
    {
        var payload = InvocationEnded(-3, "req-9", 2, 1, 20_000);

        Assert.True(CoveragePayloads.TryReadInvocationEnded(payload, out var requestId, out var ended));
        Assert.Equal(("req-9", new FlushCompletedPayload(-3, 2, 1, 20_000)), (requestId, ended));
        Assert.False(CoveragePayloads.TryReadInvocationEnded(payload.AsSpan(0, payload.Length - 1), out _, out _));
        // A flush's sequence (positive) is never a boundary harvest's.
        Assert.False(CoveragePayloads.TryReadInvocationEnded(InvocationEnded(3, "req-9", 2, 1, 1), out _, out _));
    }

    [Fact]
    public void StandingSession_HandsOverEachCompletedHarvest_AndLeavesFlushesToTheirReaders()
    {
        var harvested = new List<(string? RequestId, int[] Indices, DateTimeOffset At)>();
        var problems = new List<string>();
        var reader = new InvocationHarvests((r, at) => harvested.Add((r.RequestId, r.Modules.SelectMany(m => m.Indices).ToArray(), at)), problems.Add);
        var mvid = Guid.NewGuid();
        var at = new DateTime(2026, 12, 7, 2, 0, 0, DateTimeKind.Utc);
        void Feed(int id, byte[] payload) => reader.OnEvent(new NetTraceEvent(TraceProvider.Coverage, id, 0, at, payload));

        Feed(CoveragePayloads.BoundariesArmedEvent, Encoding.Unicode.GetBytes("127.0.0.1:9001\0"));
        Assert.True(reader.IsArmed);
        // Init's harvest (no request id) in two chunks, an agent flush's chunk between them (ignored here).
        Feed(CoveragePayloads.ModuleHitsEvent, ModuleHits(-1, 0, "App", mvid, 100, [1, 2]));
        Feed(CoveragePayloads.ModuleHitsEvent, ModuleHits(5, 0, "App", mvid, 100, [50]));
        Feed(CoveragePayloads.ModuleHitsEvent, ModuleHits(-1, 1, "App", mvid, 100, [3]));
        Feed(CoveragePayloads.FlushCompletedEvent, Concat(BitConverter.GetBytes(5), BitConverter.GetBytes(1), BitConverter.GetBytes(1), BitConverter.GetBytes(1)));
        Feed(CoveragePayloads.InvocationEndedEvent, InvocationEnded(-1, "", 2, 1, 3));
        Feed(CoveragePayloads.ModuleHitsEvent, ModuleHits(-2, 0, "App", mvid, 100, [7]));
        Feed(CoveragePayloads.InvocationEndedEvent, InvocationEnded(-2, "req-1", 1, 1, 1));

        Assert.Equal(2, harvested.Count);
        Assert.Equal("", harvested[0].RequestId);
        Assert.Equal([1, 2, 3], harvested[0].Indices);
        Assert.Equal(("req-1", 7), (harvested[1].RequestId, Assert.Single(harvested[1].Indices)));
        Assert.Equal(at, harvested[1].At.UtcDateTime);
        Assert.Empty(problems);

        // Harvests whose end never comes: beyond a few open at once, the oldest is dropped, and said.
        for (var sequence = -3; sequence >= -12; sequence--)
        {
            Feed(CoveragePayloads.ModuleHitsEvent, ModuleHits(sequence, 0, "App", mvid, 100, [sequence * -1]));
        }

        Assert.Equal(2, harvested.Count);
        Assert.NotEmpty(problems);
        Assert.Contains("never ended", problems[0]);
    }

    [Fact]
    public void StandingSession_HandsHarvestsOverInInvocationOrder_EvenWhenTheStreamMixesThreads()
    {
        // Each harvest is written on the thread that asked for the next invocation: a stream keeps
        // each thread's events in order, not one thread's against another's.
        var order = new List<string?>();
        var problems = new List<string>();
        var reader = new InvocationHarvests((r, _) => order.Add(r.RequestId), problems.Add);
        var mvid = Guid.NewGuid();
        void Feed(int id, byte[] payload) => reader.OnEvent(new NetTraceEvent(TraceProvider.Coverage, id, 0, DateTime.UtcNow, payload));
        void Harvest(int sequence, string requestId)
        {
            Feed(CoveragePayloads.ModuleHitsEvent, ModuleHits(sequence, 0, "App", mvid, 100, [-sequence]));
            Feed(CoveragePayloads.InvocationEndedEvent, InvocationEnded(sequence, requestId, 1, 1, 1));
        }

        Harvest(-2, "second");
        Harvest(-3, "third");
        Assert.Empty(order);
        Harvest(-1, "first");
        Assert.Equal(["first", "second", "third"], order);

        // A harvest that never completes (-4) holds the later ones only until the stream ends.
        Harvest(-5, "fifth");
        Assert.Equal(3, order.Count);
        reader.HandOver(all: true);
        Assert.Equal("fifth", order[^1]);
        Assert.Contains("harvests 4 to 4 never completed", Assert.Single(problems));
    }

    [Fact]
    public async Task StandingSession_TakesTheLibrarysRefusal()
    {
        var reader = new InvocationHarvests((_, _) => { }, _ => { });
        reader.OnEvent(new NetTraceEvent(TraceProvider.Coverage, CoveragePayloads.BoundariesUnavailableEvent, 0, DateTime.UtcNow, Encoding.Unicode.GetBytes("AWS_LAMBDA_RUNTIME_API is '', not host:port\0")));

        Assert.False(reader.IsArmed);
        Assert.Equal((false, "AWS_LAMBDA_RUNTIME_API is '', not host:port"), await reader.Answer);
    }

    private static byte[] InvocationEnded(int sequence, string requestId, int chunks, int modules, int methods) =>
        Concat(BitConverter.GetBytes(sequence), Encoding.Unicode.GetBytes(requestId + "\0"), BitConverter.GetBytes(chunks), BitConverter.GetBytes(modules), BitConverter.GetBytes(methods));

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
