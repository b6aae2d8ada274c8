using System.Diagnostics;

namespace Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;

public static class Sending
{
    /// <summary>Offers send opportunities (as the lifecycle would) until nothing is pending.</summary>
    public static async Task SendUntilDeliveredAsync(this FootprintsDelivery delivery, TimeSpan? timeout = null)
    {
        var waited = Stopwatch.StartNew();
        while (delivery.Statistics.PendingBatches > 0)
        {
            Assert.True(waited.Elapsed < (timeout ?? TimeSpan.FromSeconds(15)), $"still pending: {delivery.Statistics}");
            await delivery.SendPendingAsync(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }
    }

    /// <summary>Waits for a condition the background sender brings about.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < (timeout ?? TimeSpan.FromSeconds(10)), $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }
}
