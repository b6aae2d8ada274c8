using System.Diagnostics;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json.Nodes;

namespace Sealights.Images.Testing;

/// <summary>
/// The test backend (tests/Sealights.TestBackend) as a real process on a loopback port, its
/// accepted requests recorded to a file that survives restarts (stop = connection refused).
/// With a certificate it serves HTTPS on <see cref="Port"/>, and the control API (and the same
/// routes) on a plain loopback <see cref="ControlPort"/>, so the tests steer it whatever certificate
/// it shows the agent.
/// </summary>
public sealed class TestBackendProcess : IAsyncDisposable
{
    private static readonly HttpClient Control = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

    private readonly string? _token;
    private readonly string? _execution;
    private readonly Action<string>? _output;
    private ServerCertificate? _certificate;
    private Process? _process;

    private TestBackendProcess(int port, string recordFile, string? token, string? execution, Action<string>? output, string? recordAllFile = null, ServerCertificate? certificate = null)
    {
        Port = port;
        _certificate = certificate;
        ControlPort = certificate is null ? port : FreePorts.Next();
        RecordFile = recordFile;
        RecordAllFile = recordAllFile;
        _token = token;
        _execution = execution;
        _output = output;
    }

    public static string Assembly =>
        typeof(TestBackendProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "TestBackendAssembly").Value!;

    public int Port { get; }

    /// <summary>Plain HTTP on loopback for the control API: <see cref="Port"/> unless it serves HTTPS.</summary>
    public int ControlPort { get; }

    public string RecordFile { get; }

    /// <summary>Every request whatever its answer (the backend's --record-all), when started with <c>recordAll</c>.</summary>
    public string? RecordAllFile { get; }

    /// <summary>The "server" as a token's x-sl-server names it, with a path like Sealights' (/api).</summary>
    public Uri Server => new($"{(_certificate is null ? "http" : "https")}://127.0.0.1:{Port}/api");

    /// <param name="token">When set, the only Bearer token accepted (others get 401).</param>
    /// <param name="execution">An execution id active from the start (also after a restart).</param>
    /// <param name="recordAll">Also record every request to <see cref="RecordAllFile"/> (all.jsonl).</param>
    public static async Task<TestBackendProcess> StartAsync(string recordDirectory, int port, string? token = null, string? execution = null, Action<string>? output = null, bool recordAll = false)
    {
        if (!File.Exists(Assembly))
        {
            throw new InvalidOperationException($"the test backend is not built at {Assembly}");
        }
        var backend = new TestBackendProcess(port, Path.Combine(recordDirectory, "requests.jsonl"), token, execution, output, recordAll ? Path.Combine(recordDirectory, "all.jsonl") : null);
        await backend.StartProcessAsync();
        return backend;
    }

    /// <summary>The same, serving HTTPS on <paramref name="port"/> with <paramref name="certificate"/>.</summary>
    public static async Task<TestBackendProcess> StartHttpsAsync(string recordDirectory, int port, ServerCertificate certificate, string? token = null, string? execution = null, Action<string>? output = null)
    {
        if (!File.Exists(Assembly))
        {
            throw new InvalidOperationException($"the test backend is not built at {Assembly}");
        }
        var backend = new TestBackendProcess(port, Path.Combine(recordDirectory, "requests.jsonl"), token, execution, output, certificate: certificate);
        await backend.StartProcessAsync();
        return backend;
    }

    /// <summary>Kills the process: afterwards connections are refused.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        _process?.Dispose();
        _process = null;
    }

    /// <summary>Starts it again on the same port with the same record file.</summary>
    public Task RestartAsync() => StartProcessAsync();

    /// <summary>Stops it and starts it again on the same ports, now showing <paramref name="certificate"/> (an HTTPS backend only).</summary>
    public async Task RestartAsync(ServerCertificate certificate)
    {
        if (_certificate is null)
        {
            throw new InvalidOperationException("a plain HTTP backend has no certificate to change");
        }
        await StopAsync();
        _certificate = certificate;
        await StartProcessAsync();
    }

    public async Task SetModeAsync(object mode)
    {
        using var response = await Control.PostAsJsonAsync($"http://127.0.0.1:{ControlPort}/_control/mode", mode);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Every request (but the control API's) is answered this much later: a slow backend.</summary>
    public async Task SetDelayAsync(TimeSpan delay)
    {
        using var response = await Control.PostAsJsonAsync($"http://127.0.0.1:{ControlPort}/_control/delay", new { ms = delay.TotalMilliseconds });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The agent events received (route <c>agent-events</c>), in arrival order.</summary>
    public IReadOnlyList<JsonObject> AgentEvents() => Records().Where(r => (string?)r["route"] == "agent-events").ToList();

    public async Task<JsonObject> StatsAsync() =>
        JsonNode.Parse(await Control.GetStringAsync($"http://127.0.0.1:{ControlPort}/_control/stats"))!.AsObject();

    /// <summary>The build map last uploaded for <paramref name="bsid"/> (<c>{"headers", "buildMap"}</c>), or null when none was.</summary>
    public async Task<JsonObject?> BuildMapAsync(string bsid)
    {
        using var response = await Control.GetAsync($"http://127.0.0.1:{Port}/_control/build-map/{Uri.EscapeDataString(bsid)}");
        return response.StatusCode == System.Net.HttpStatusCode.NotFound ? null : JsonNode.Parse(await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync())!.AsObject();
    }

    /// <summary>Every request so far, any route or answer, in arrival order (needs <c>recordAll</c>).</summary>
    public IReadOnlyList<JsonObject> AllRequests() =>
        RecordAllFile is null ? [] : CompleteRecords(RecordAllFile);

    /// <summary>Every accepted request so far, in arrival order.</summary>
    public IReadOnlyList<JsonObject> Records() =>
        CompleteRecords(RecordFile);

    private static List<JsonObject> CompleteRecords(string path) =>
        File.Exists(path) ? JsonLinesFile.CompleteLines(path).Select(l => JsonNode.Parse(l)!.AsObject()).ToList() : [];

    public IReadOnlyList<JsonObject> FootprintsRecords() =>
        Records().Where(r => ((string?)r["route"])!.EndsWith("footprints", StringComparison.Ordinal)).ToList();

    public IReadOnlyList<JsonObject> ExecutionQueries() => Records().Where(r => (string?)r["route"] == "execution").ToList();

    /// <summary>Every hits entry delivered, in delivery order, with its method ids resolved from the document's index.</summary>
    public IReadOnlyList<DeliveredHits> DeliveredHits() =>
        FootprintsRecords().SelectMany(r =>
        {
            var body = r["body"]!;
            var methods = body["methods"]!.AsArray().Select(m => (string)m!).ToList();
            return body["executions"]!.AsArray().SelectMany(e => e!["hits"]!.AsArray()).Select(h => new DeliveredHits(
                h!["methods"]!.AsArray().Select(i => methods[(int)i!]).ToList(),
                // Epoch seconds, as slnodejs sends them.
                DateTimeOffset.FromUnixTimeSeconds((long)h["start"]!),
                DateTimeOffset.FromUnixTimeSeconds((long)h["end"]!),
                (bool?)h["isInitFootprints"] == true,
                (bool?)h["isFinalFootprints"] == true));
        }).ToList();

    /// <summary>Every method id delivered, in delivery order (duplicates kept: tests count them).</summary>
    public IReadOnlyList<string> DeliveredMethods() => DeliveredHits().SelectMany(h => h.Methods).ToList();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
    }

    private async Task StartProcessAsync()
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Assembly);
        info.ArgumentList.Add("--urls");
        if (_certificate is null)
        {
            info.ArgumentList.Add($"http://127.0.0.1:{Port}");
        }
        else
        {
            info.ArgumentList.Add($"https://127.0.0.1:{Port};http://127.0.0.1:{ControlPort}");
            foreach (var argument in new[] { "--certificate", _certificate.CertificateFile, "--certificate-key", _certificate.KeyFile })
            {
                info.ArgumentList.Add(argument);
            }
        }
        info.ArgumentList.Add("--record");
        info.ArgumentList.Add(RecordFile);
        if (RecordAllFile is not null)
        {
            info.ArgumentList.Add("--record-all");
            info.ArgumentList.Add(RecordAllFile);
        }
        if (_token is not null)
        {
            info.ArgumentList.Add("--token");
            info.ArgumentList.Add(_token);
        }
        if (_execution is not null)
        {
            info.ArgumentList.Add("--execution");
            info.ArgumentList.Add(_execution);
        }
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Echo("backend: ", e.Data);
        process.ErrorDataReceived += (_, e) => Echo("backend! ", e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await Control.GetAsync($"http://127.0.0.1:{ControlPort}/_control/health");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            if (process.HasExited || waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException(process.HasExited ? "the test backend exited at start" : "the test backend did not start listening");
            }
            await Task.Delay(50);
        }
    }

    private void Echo(string prefix, string? line)
    {
        if (line is null || _output is null)
        {
            return;
        }
        try
        {
            _output(prefix + line);
        }
        catch (InvalidOperationException)
        {
            // The test is over.
        }
    }
}

/// <summary>One hits entry of a delivered footprints document.</summary>
public sealed record DeliveredHits(IReadOnlyList<string> Methods, DateTimeOffset Start, DateTimeOffset End, bool Init, bool Final);
