using System.Globalization;
using Sealights.Images.Bench;
using Sealights.Images.Testing;

// Baseline of a function image under the emulator: cold starts (one container each) and warm
// invocations (one container). Usage: [--cold N] [--warm M] [--framework net10.0|net8.0]
var cold = 5;
var warm = 200;
var framework = "net10.0";
for (var i = 0; i < args.Length - 1; i += 2)
{
    switch (args[i])
    {
        case "--cold": cold = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--warm": warm = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--framework": framework = args[i + 1]; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

await StandInImages.EnsureBaseImagesAsync();
var image = await StandInImages.BuildSampleAsync(framework);
const string Payload = """{"action":"quote","items":[{"sku":"A","qty":2},{"sku":"B","qty":12}],"coupon":"TEN"}""";

var initDurations = new List<double>();
var coldLatencies = new List<double>();
var memory = new List<double>();
for (var run = 0; run < cold; run++)
{
    await using var container = await LambdaContainer.StartAsync(image);
    var result = await container.InvokeAsync(Payload);
    await container.StopAsync();
    var report = ReportLine.ParseAll(await container.LogsAsync()).Single();
    initDurations.Add(report.InitDurationMs ?? double.NaN);
    coldLatencies.Add(result.Latency.TotalMilliseconds);
    memory.Add(report.MaxMemoryUsedMb);
}

var durations = new List<double>();
var warmLatencies = new List<double>();
var postRuntime = new List<double>();
await using (var container = await LambdaContainer.StartAsync(image))
{
    await container.InvokeAsync(Payload);
    for (var i = 0; i < warm; i++)
    {
        warmLatencies.Add((await container.InvokeAsync(Payload)).Latency.TotalMilliseconds);
    }
    await container.StopAsync();
    foreach (var report in ReportLine.ParseAll(await container.LogsAsync()).Skip(1))
    {
        durations.Add(report.DurationMs);
        postRuntime.Add(report.PostRuntimeExtensionsDurationMs);
    }
}

static string Ms(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
Console.WriteLine($"sample function ({framework}) under the emulator, {cold} cold starts, {warm} warm invocations");
Console.WriteLine($"  cold: init duration median {Ms(Statistics.Median(initDurations))} ms, max {Ms(initDurations.Max())} ms");
Console.WriteLine($"  cold: caller latency median {Ms(Statistics.Median(coldLatencies))} ms; max memory used median {Statistics.Median(memory)} MB");
Console.WriteLine($"  warm: duration p50 {Ms(Statistics.Percentile(durations, 50))} ms, p99 {Ms(Statistics.Percentile(durations, 99))} ms");
Console.WriteLine($"  warm: caller latency p50 {Ms(Statistics.Percentile(warmLatencies, 50))} ms, p99 {Ms(Statistics.Percentile(warmLatencies, 99))} ms");
Console.WriteLine($"  warm: post-runtime extensions duration median {Ms(Statistics.Median(postRuntime))} ms");
return 0;
