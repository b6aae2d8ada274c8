using System.Diagnostics;
using System.Text;

namespace Sealights.Images.Cli.Tests.Check;

/// <summary>
/// Debian's Docker registry (<c>/usr/bin/docker-registry</c>, the distribution project's
/// <c>registry</c>) as a child process with a configuration of the test's own, storing in
/// <c>DIRECTORY/data</c>; its output kept for failure messages.
/// </summary>
public sealed class RegistryProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private RegistryProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

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

    /// <summary>Starts it on 127.0.0.1:<paramref name="port"/> with the given <c>http.tls</c>/<c>auth</c> sections, and waits until <paramref name="ready"/> says so.</summary>
    public static async Task<RegistryProcess> StartAsync(string directory, int port, string tlsYaml, string authYaml, Func<Task<bool>> ready)
    {
        var config = Path.Combine(directory, "config.yml");
        File.WriteAllText(config, $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Path.Combine(directory, "data")}
            http:
              addr: 127.0.0.1:{port}
              secret: {Guid.NewGuid():N}
            {tlsYaml}
            auth:
            {authYaml}
            """);
        var startInfo = new ProcessStartInfo("/usr/bin/docker-registry") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        startInfo.ArgumentList.Add("serve");
        startInfo.ArgumentList.Add(config);
        var registry = new RegistryProcess(Process.Start(startInfo)!);
        try
        {
            await registry.WaitUntilReadyAsync(port, ready);
            return registry;
        }
        catch
        {
            // A registry that never got ready is not left running.
            await registry.DisposeAsync();
            throw;
        }
    }

    private async Task WaitUntilReadyAsync(int port, Func<Task<bool>> ready)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"docker-registry exited ({_process.ExitCode}):\n{Log}");
            }
            try
            {
                if (await ready())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"docker-registry did not get ready on port {port} within 30 s:\n{Log}");
            }
            await Task.Delay(100);
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
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
}
