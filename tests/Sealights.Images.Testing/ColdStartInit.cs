namespace Sealights.Images.Testing;

/// <summary>
/// The init time of a container's cold start, from its log, under either emulator: the first
/// REPORT line's Init Duration, unless it is absent or AWS's emulator's placeholder (its init runs
/// inside the invoke, so its REPORT says about 0.1 ms); then the first INIT REPORT of an init that
/// did not fail (AWS's emulator prints one after every init; v1.28's carries no status, so a
/// failed init there cannot be told apart: the invoke's answer says it).
/// </summary>
public static class ColdStartInit
{
    public static double? Milliseconds(string logs)
    {
        if (ReportLine.ParseAll(logs).FirstOrDefault()?.MeasuredInitDurationMs is { } measured)
        {
            return measured;
        }
        return InitReportLine.ParseAll(logs).FirstOrDefault(r => r.Status is null or "success")?.DurationMs;
    }
}
