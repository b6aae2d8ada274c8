using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Sealights.Images.Testing;

namespace Sealights.Images.Cli.Tests;

/// <summary>
/// <c>sl-images collect</c> as a real process on a loopback port, ready once <c>GET /health</c>
/// answers. Its standard error is kept for the assertions on its log lines.
/// </summary>
public sealed class CollectorProcess : IAsyncDisposable
{
    public static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "sl-images.dll");

    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(20) };

    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private CollectorProcess(Process process, int port, string directory)
    {
        _process = process;
        Port = port;
        Directory = directory;
    }

    public int Port { get; }

    public string Directory { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    public string StoreFile => Path.Combine(Directory, "footprints.jsonl");

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<CollectorProcess> StartAsync(string directory, int port, params string[] extraArguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { Cli, "collect", "--listen", $"127.0.0.1:{port}", "--out", directory }.Concat(extraArguments))
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start)!;
        var collector = new CollectorProcess(process, port, directory);
        process.ErrorDataReceived += (_, e) => collector.Append(e.Data);
        process.OutputDataReceived += (_, e) => collector.Append(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"sl-images collect exited with {process.ExitCode}: {collector.Log}");
            }
            try
            {
                using var health = await Http.GetAsync(new Uri(collector.BaseAddress, "/health"));
                if (health.IsSuccessStatusCode)
                {
                    return collector;
                }
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"sl-images collect did not answer /health in 30 s: {collector.Log}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// The log once it has a line that <paramref name="contains"/> the text: the collector writes its
    /// line before it answers, but this side reads its standard error asynchronously.
    /// </summary>
    public async Task<string> WaitForLogAsync(string contains)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!Log.Contains(contains, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no log line with \"{contains}\" in 20 s: {Log}");
            }
            await Task.Delay(20);
        }
        return Log;
    }

    public async Task<JsonObject> HealthAsync() =>
        JsonNode.Parse(await Http.GetStringAsync(new Uri(BaseAddress, "/health")))!.AsObject();

    /// <summary>POSTs a footprints body (gzipped unless told otherwise) to a route of the collector.</summary>
    public async Task<(int Status, string Body)> PostAsync(string path, byte[] body, bool gzip = true, IDictionary<string, string>? headers = null)
    {
        var content = new ByteArrayContent(gzip ? Gzip(body) : body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (gzip)
        {
            content.Headers.ContentEncoding.Add("gzip");
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseAddress, path)) { Content = content };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        using var response = await Http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<string> GetAsync(string path) => await Http.GetStringAsync(new Uri(BaseAddress, path));

    /// <summary>Starts a test execution the collector files collector-mode footprints under.</summary>
    public async Task StartExecutionAsync(string executionId)
    {
        using var response = await Http.PostAsync(new Uri(BaseAddress, "/v3/testExecution/"), new StringContent($$"""{"executionId":"{{executionId}}"}""", Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>kill -9: no chance to flush or close anything.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, then the exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited)
        {
            (await ProcessRunner.RunAsync("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10))).EnsureSuccess("kill -TERM");
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    public static byte[] Gzip(byte[] body)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            gzip.Write(body);
        }
        return buffer.ToArray();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
