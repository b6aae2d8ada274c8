using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using Sealights.Images.Cli.Collector;
using Sealights.Images.Testing;

namespace Sealights.Images.Bench;

/// <summary>
/// "collect": <c>sl-images collect</c> as a real process on loopback, <c>--requests</c> footprints
/// requests (gzip JSON, <c>--methods</c> ids each, as the agent sends them in collector mode) from
/// <c>--clients</c> concurrent clients. Prints the accept latency (request sent → 2xx, i.e. stored
/// and fsynced) percentiles and the throughput, then checks every request is in the store.
/// </summary>
public static class CollectorBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var requests = 1000;
        var clients = 8;
        var methods = 50;
        for (var i = 0; i < args.Length - 1; i += 2)
        {
            switch (args[i])
            {
                case "--requests": requests = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--clients": clients = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--methods": methods = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"unknown option {args[i]} (collect [--requests N] [--clients C] [--methods M])"); return 2;
            }
        }

        var directory = Directory.CreateTempSubdirectory("sl-bench-collect-");
        var port = FreePorts.Next();
        var cli = Path.Combine(AppContext.BaseDirectory, "sl-images.dll");
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var argument in new[] { cli, "collect", "--listen", $"127.0.0.1:{port}", "--out", directory.FullName })
        {
            start.ArgumentList.Add(argument);
        }
        using var collector = Process.Start(start)!;
        collector.ErrorDataReceived += (_, _) => { };
        collector.BeginErrorReadLine();
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = clients }) { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            await WaitForHealthAsync(http, port);
            var body = Body(methods);
            // Warm-up (JIT of both sides), not counted; then the measured run.
            await SendAsync(http, port, body, 20, clients);
            var wall = Stopwatch.StartNew();
            var latencies = await SendAsync(http, port, body, requests, clients);
            wall.Stop();

            var stored = FootprintsStoreReader.Read(directory.FullName).Records.Count;
            Console.WriteLine($"sl-images collect: {requests} requests ({body.Length} bytes gzip, {methods} method ids each) from {clients} concurrent clients on loopback");
            Console.WriteLine($"accept latency (sent -> 2xx, stored and fsynced): p50 {Statistics.Percentile(latencies, 50):0.00} ms, p90 {Statistics.Percentile(latencies, 90):0.00} ms, p99 {Statistics.Percentile(latencies, 99):0.00} ms, max {latencies.Max():0.00} ms");
            Console.WriteLine($"throughput: {requests / wall.Elapsed.TotalSeconds:0} requests/s ({wall.Elapsed.TotalSeconds:0.00} s)");
            Console.WriteLine($"stored: {stored} of {requests + 20} (incl. 20 warm-up)");
            return stored == requests + 20 ? 0 : 1;
        }
        finally
        {
            collector.Kill();
            await collector.WaitForExitAsync();
            directory.Delete(recursive: true);
        }
    }

    private static async Task<List<double>> SendAsync(HttpClient http, int port, byte[] body, int requests, int clients)
    {
        var latencies = new List<double>(requests);
        var next = -1;
        var uri = new Uri($"http://127.0.0.1:{port}/v6/agents/bench-bsid/footprints");
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < requests)
            {
                var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                content.Headers.ContentEncoding.Add("gzip");
                var watch = Stopwatch.StartNew();
                using var response = await http.PostAsync(uri, content);
                watch.Stop();
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"the collector answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
                lock (latencies)
                {
                    latencies.Add(watch.Elapsed.TotalMilliseconds);
                }
            }
        })));
        return latencies;
    }

    private static async Task WaitForHealthAsync(HttpClient http, int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                using var health = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/health"));
                if (health.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            await Task.Delay(50);
        }
    }

    // The agent's collector-mode document: every id once, one hits entry naming them all.
    private static byte[] Body(int methods)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var ids = string.Join(",", Enumerable.Range(0, methods).Select(i => $"\"Bench|Bench.Type{i / 10}|Method{i}(System.String,System.Int32)\""));
        var refs = string.Join(",", Enumerable.Range(0, methods));
        var json = $$"""{"formatVersion":"6.0","meta":{"agentId":"bench-agent","labId":"bench-lab","intervals":{"timedFootprintsCollectionIntervalSeconds":10},"footprintsMapping":"agent"},"methods":[{{ids}}],"branches":[],"executions":[{"hits":[{"methods":[{{refs}}],"branches":[],"start":{{now}},"end":{{now + 1}},"testName":null,"isInitFootprints":false,"isFinalFootprints":false}]}]}""";
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(json));
        }
        return buffer.ToArray();
    }
}
