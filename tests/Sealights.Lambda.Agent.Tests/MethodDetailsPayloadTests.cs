using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Tests;

/// <summary>The raw MethodDetails layout, on payloads captured from a .NET 10 runtime.</summary>
public sealed class MethodDetailsPayloadTests
{
    [Fact]
    public void ReadsIdTokenAndLoaderModule()
    {
        // Fixture.LateWork::Run, entered through its ReadyToRun code.
        var payload = Convert.FromHexString("F05B2F2B3B7F0000305C2F2B3B7F00003800000600000000301AF22A3B7F0000");

        Assert.True(MethodDetailsPayload.TryRead(payload, out var details));
        Assert.Equal(0x7f3b2b2f5bf0, details.MethodId);
        Assert.Equal(0x06000038, details.MethodToken);
        Assert.Equal(0x7f3b2af21a30, details.LoaderModuleId);
    }

    [Fact]
    public void SkipsTheTypeParametersOfAGenericMethod()
    {
        // Fixture.Generic::Echo<int>: one type parameter after the fixed part.
        var payload = Convert.FromHexString("50924588127F0000205E4588127F00000C00000601000000301A1488127F0000E8740588127F0000");

        Assert.True(MethodDetailsPayload.TryRead(payload, out var details));
        Assert.Equal(0x0600000C, details.MethodToken);
        Assert.Equal(0x7f1288141a30, details.LoaderModuleId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("F05B2F2B3B7F0000305C2F2B3B7F000038000006")]
    // Claims one type parameter but carries none: another layout, not guessed at.
    [InlineData("50924588127F0000205E4588127F00000C00000601000000301A1488127F0000")]
    public void RejectsPayloadsOfAnotherShape(string hex)
    {
        Assert.False(MethodDetailsPayload.TryRead(Convert.FromHexString(hex), out _));
    }
}
