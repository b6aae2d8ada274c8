namespace Sealights.Images.Bench;

/// <summary>Order statistics over a sample (nearest-rank percentiles).</summary>
public static class Statistics
{
    public static double Percentile(IReadOnlyCollection<double> values, double percentile)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(percentile / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IReadOnlyCollection<double> values) => Percentile(values, 50);

    /// <summary>
    /// The median of the differences of paired samples (the i-th of each): with rounds interleaved,
    /// a slow moment of the machine hits both samples of a round alike.
    /// </summary>
    public static double MedianOfDifferences(IReadOnlyList<double> samples, IReadOnlyList<double> baseline) =>
        Median([.. samples.Zip(baseline, (a, b) => a - b)]);
}
