using System.Diagnostics;
using System.Net.Sockets;

namespace Sealights.Images.Testing;

/// <summary>
/// A real forward proxy on loopback: Debian's tinyproxy (installed by scripts/prereqs.sh) as a
/// plain foreground process with its own configuration, allowing CONNECT to one port only. What it
/// logs (every client request, CONNECT lines included) is kept for the test to read.
/// </summary>
public sealed class TinyproxyProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _log = [];

    private TinyproxyProcess(int port, Process process)
    {
        Port = port;
        _process = process;
    }

    public int Port { get; }

    /// <summary>What SL_PROXY (or any client) is given.</summary>
    public Uri Address => new($"http://127.0.0.1:{Port}");

    /// <summary>Every line tinyproxy logged so far.</summary>
    public IReadOnlyList<string> Log
    {
        get
        {
            lock (_log)
            {
                return [.. _log];
            }
        }
    }

    /// <summary>The targets of the requests it received, e.g. "CONNECT 127.0.0.1:4443 HTTP/1.1".</summary>
    public IReadOnlyList<string> Requests =>
        Log.Select(l => l.IndexOf("): ", StringComparison.Ordinal) is var at and >= 0 && l.Contains("Request (file descriptor", StringComparison.Ordinal) ? l[(at + 3)..] : null)
            .OfType<string>().ToList();

    /// <param name="directory">Where its configuration goes.</param>
    /// <param name="connectPort">The only port CONNECT may reach.</param>
    /// <param name="basicAuth">When set, clients must authenticate with this user and password (407 otherwise).</param>
    public static async Task<TinyproxyProcess> StartAsync(string directory, int connectPort, (string User, string Password)? basicAuth = null)
    {
        var binary = new[] { "/usr/bin/tinyproxy", "/usr/sbin/tinyproxy" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("tinyproxy is not installed (scripts/prereqs.sh installs it: apt-get install tinyproxy)");
        var port = FreePorts.Next();
        var config = Path.Combine(directory, "tinyproxy.conf");
        // No LogFile, no Syslog: in the foreground (-d) it logs to standard error, read below.
        await File.WriteAllTextAsync(config, $"""
            Port {port}
            Listen 127.0.0.1
            Timeout 30
            MaxClients 20
            LogLevel Connect
            Allow 127.0.0.1
            ConnectPort {connectPort}
            DisableViaHeader Yes
            {(basicAuth is { } auth ? $"BasicAuth {auth.User} {auth.Password}" : "")}

            """);
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-d", "-c", config })
        {
            info.ArgumentList.Add(argument);
        }
        var process = new Process { StartInfo = info };
        var proxy = new TinyproxyProcess(port, process);
        process.OutputDataReceived += (_, e) => proxy.Add(e.Data);
        process.ErrorDataReceived += (_, e) => proxy.Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return proxy;
            }
            catch (SocketException) when (!process.HasExited && waited.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(50);
            }
            catch (SocketException)
            {
                throw new InvalidOperationException($"tinyproxy did not listen on {port}:\n{string.Join("\n", proxy.Log)}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            _log.Add(line);
        }
    }
}
