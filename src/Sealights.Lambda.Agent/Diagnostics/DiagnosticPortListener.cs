using Microsoft.Diagnostics.NETCore.Client;

namespace Sealights.Lambda.Agent.Diagnostics;

/// <summary>
/// The agent's end of the runtime's reverse diagnostic connection: a Unix socket in a private
/// folder that the function's runtime connects to (<c>DOTNET_DiagnosticPorts=&lt;path&gt;,connect,nosuspend</c>).
/// Each accepted runtime gets its own listening server (that is what the public
/// <see cref="DiagnosticsClientConnector"/> offers); after that runtime is gone,
/// <see cref="RelistenAsync"/> binds the path again for the next one. A runtime that tries while
/// nobody listens keeps retrying in the background and never waits (nosuspend).
/// </summary>
internal sealed class DiagnosticPortListener : IAsyncDisposable
{
    public const string SocketFileName = "dotnet-diagnostic.sock";

    // Binding is synchronous inside FromDiagnosticPort; the wait only covers a slow file system.
    private static readonly TimeSpan BindTimeout = TimeSpan.FromSeconds(2);

    private readonly object _lock = new();
    private CancellationTokenSource? _acceptCancel;
    private Task<DiagnosticsClientConnector?>? _accepting;
    private bool _disposed;

    private DiagnosticPortListener(string directory, string socketPath)
    {
        Directory = directory;
        SocketPath = socketPath;
    }

    /// <summary>The private folder holding the socket.</summary>
    public string Directory { get; }

    /// <summary>The socket the runtime connects to.</summary>
    public string SocketPath { get; }

    /// <summary>The value of <c>DOTNET_DiagnosticPorts</c> for the function's runtime: connect, never suspend.</summary>
    public static string RuntimePortSetting(string socketPath) => socketPath + ",connect,nosuspend";

    /// <summary>Creates the private folder and listens; returns once the socket exists.</summary>
    /// <exception cref="IOException">The folder or socket could not be created.</exception>
    public static async Task<DiagnosticPortListener> StartAsync(string socketDirectory, CancellationToken cancellationToken)
    {
        // Checked before anything is created: a path too long for a socket leaves no folder behind.
        var socketPath = PrivateSocketDirectory.SocketPath(Path.GetFullPath(socketDirectory), SocketFileName);
        var listener = new DiagnosticPortListener(PrivateSocketDirectory.Create(socketDirectory), socketPath);
        try
        {
            await listener.ListenAsync(cancellationToken);
            return listener;
        }
        catch
        {
            await listener.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Waits for the next runtime to connect and hands its connector to the caller, who owns it
    /// and must give it back through <see cref="RelistenAsync"/> once that runtime is done.
    /// Null when cancelled or disposed.
    /// </summary>
    public async Task<DiagnosticsClientConnector?> AcceptAsync(CancellationToken cancellationToken)
    {
        Task<DiagnosticsClientConnector?> accepting;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            accepting = _accepting ?? throw new InvalidOperationException("not listening: give the previous connector back first");
        }

        DiagnosticsClientConnector? connector;
        try
        {
            connector = await accepting.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        lock (_lock)
        {
            if (_accepting == accepting)
            {
                _accepting = null;
                _acceptCancel?.Dispose();
                _acceptCancel = null;
            }
        }

        return connector;
    }

    /// <summary>Closes a runtime's connector (its server owns the socket) and listens again at the same path.</summary>
    public async Task RelistenAsync(DiagnosticsClientConnector finished, CancellationToken cancellationToken)
    {
        // Disposing the server unlinks the socket file, so the new server can bind the path.
        await finished.DisposeAsync();
        await ListenAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        Task<DiagnosticsClientConnector?>? accepting;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            accepting = _accepting;
            _accepting = null;
            _acceptCancel?.Cancel();
        }

        if (accepting is not null)
        {
            try
            {
                // Cancelled, FromDiagnosticPort disposes its server (and the socket file); a
                // runtime that connected in the same instant is closed here.
                var late = await accepting.WaitAsync(BindTimeout);
                if (late is not null)
                {
                    await late.DisposeAsync();
                }
            }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException or ObjectDisposedException)
            {
            }
        }

        _acceptCancel?.Dispose();
        TryDeleteSocket();
        PrivateSocketDirectory.TryDelete(Directory);
    }

    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        var cancel = new CancellationTokenSource();
        Task<DiagnosticsClientConnector?> accepting;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_accepting is not null)
            {
                throw new InvalidOperationException("already listening");
            }

            // A socket file left by a crashed agent would make bind fail; the folder is ours alone.
            TryDeleteSocket();
            accepting = DiagnosticsClientConnector.FromDiagnosticPort(SocketPath + ",listen", cancel.Token)!;
            _accepting = accepting;
            _acceptCancel = cancel;
        }

        // FromDiagnosticPort binds before its first await, but a failed bind is swallowed by the
        // server's listen loop (it would then wait forever): only the socket file proves it listens.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!File.Exists(SocketPath))
        {
            if (accepting.IsFaulted)
            {
                throw new IOException($"cannot listen on {SocketPath}: {accepting.Exception!.InnerException?.Message}");
            }

            if (waited.Elapsed > BindTimeout)
            {
                lock (_lock)
                {
                    if (_accepting == accepting)
                    {
                        _accepting = null;
                        _acceptCancel = null;
                    }
                }

                cancel.Cancel();
                cancel.Dispose();
                throw new IOException($"cannot listen on {SocketPath}: the socket was not created");
            }

            await Task.Delay(5, cancellationToken);
        }
    }

    private void TryDeleteSocket()
    {
        try
        {
            File.Delete(SocketPath);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
