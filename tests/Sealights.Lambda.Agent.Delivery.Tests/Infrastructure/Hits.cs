using Sealights.Coverage;
using Sealights.Lambda.Agent.Delivery;
using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;

/// <summary>Method hits with recognisable ids: batch b's methods are <c>App|App.Batch{b}|M{i}()</c>.</summary>
public static class Hits
{
    public static MethodIdentity Method(int batch, int index) =>
        MethodIdentity.ForMethod("App", $"App.Batch{batch}", $"M{index}", 0, [], "System.Void");

    public static IReadOnlyList<MethodHit> Batch(int batch, int count, DateTimeOffset at) =>
        Enumerable.Range(0, count).Select(i => new MethodHit(Method(batch, i), at.AddMilliseconds(i))).ToList();

    /// <summary>Writes batch <paramref name="batch"/> (its <paramref name="methods"/> methods, hit now) as one flush.</summary>
    public static Task WriteBatchAsync(this FootprintsDelivery delivery, int batch, int methods = 3, bool isFinal = false) =>
        delivery.WriteAsync(Batch(batch, methods, DateTimeOffset.UtcNow), isFinal, CancellationToken.None);

    /// <summary>The batch number an id of <see cref="Method"/> belongs to.</summary>
    public static int BatchOf(string id) => int.Parse(id.Split('|')[1]["App.Batch".Length..]);
}
