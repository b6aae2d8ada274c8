using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Sealights.Lambda.Agent.Lifecycle;

/// <summary>
/// The Telemetry API's destination: a small HTTP receiver on the sandbox's own address that
/// answers every POST with 200 and notes which invocations' <c>platform.start</c> and
/// <c>platform.runtimeDone</c> have come, so the lifecycle can flush right after a response. One thread per connection with
/// blocking reads: Lambda keeps one or two connections open and pushes a few batches per invoke.
/// Anything it cannot read is logged once and otherwise ignored: telemetry is only a hint.
/// </summary>
public sealed class TelemetryListener : IDisposable
{
    /// <summary>The host name Lambda's documentation gives for telemetry destinations.</summary>
    public const string SandboxHost = "sandbox.localdomain";

    private const int MaxBatchBytes = 2 * 1024 * 1024;

    /// <summary>
    /// How long a new connection may stay silent before its first request, and how long a begun
    /// request may take to arrive whole. Between requests a kept-alive connection waits without
    /// limit: Lambda keeps its connections open across frozen periods. A peer that connects and
    /// sends nothing is closed after this, quietly, so it cannot hold a thread for good.
    /// </summary>
    internal static readonly TimeSpan SilenceLimit = TimeSpan.FromSeconds(5);
    private const int RememberedEvents = 128;
    private const string StartType = "platform.start";
    private const string RuntimeDoneType = "platform.runtimeDone";

    private readonly Socket _socket;
    private readonly Action<string> _warn;
    private readonly object _lock = new();
    private readonly Dictionary<string, TaskCompletionSource> _waiting = new(StringComparer.Ordinal);
    private readonly Queue<string> _doneOrder = new();
    private readonly HashSet<string> _done = new(StringComparer.Ordinal);
    private int _warned;
    private int _silentClosed;
    private volatile bool _disposed;

    private TelemetryListener(Socket socket, Action<string> warn)
    {
        _socket = socket;
        _warn = warn;
        Destination = new Uri($"http://{SandboxHost}:{((IPEndPoint)socket.LocalEndPoint!).Port}/");
        new Thread(AcceptLoop) { IsBackground = true, Name = "telemetry-accept" }.Start();
    }

    /// <summary>The URI to subscribe with.</summary>
    public Uri Destination { get; }

    /// <summary>Connections closed because no request came within <see cref="SilenceLimit"/>.</summary>
    internal int SilentConnectionsClosed => Volatile.Read(ref _silentClosed);


    /// <summary>
    /// Listens on a free port of <see cref="SandboxHost"/>'s address as /etc/hosts gives it (Lambda),
    /// else on 127.0.0.1 (local emulators resolve the name to loopback themselves). No DNS query:
    /// a sandbox without a resolver would stall the agent's init.
    /// </summary>
    public static TelemetryListener Start(Action<string> warn, string hostsFile = "/etc/hosts")
    {
        var address = SandboxAddress(hostsFile) ?? IPAddress.Loopback;
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, 0));
            socket.Listen(8);
            return new TelemetryListener(socket, warn);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Completes when Lambda says the invocation started (<c>platform.start</c>), also when it already had.</summary>
    public Task Started(string requestId) => Arrival(StartType, requestId);

    /// <summary>Completes when the runtime finished the invocation (<c>platform.runtimeDone</c>), also when it already had.</summary>
    public Task RuntimeDone(string requestId) => Arrival(RuntimeDoneType, requestId);

    /// <summary>Stops waiting for an invocation's events (they did not come in time).</summary>
    public void Forget(string requestId)
    {
        lock (_lock)
        {
            _waiting.Remove(Key(StartType, requestId));
            _waiting.Remove(Key(RuntimeDoneType, requestId));
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _socket.Dispose();
    }

    internal static IPAddress? SandboxAddress(string hostsFile)
    {
        try
        {
            foreach (var line in File.ReadLines(hostsFile))
            {
                var fields = line.Split('#')[0].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 2 && fields.Skip(1).Contains(SandboxHost, StringComparer.OrdinalIgnoreCase)
                    && IPAddress.TryParse(fields[0], out var address))
                {
                    return address;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    private static string Key(string type, string requestId) => type + " " + requestId;

    private Task Arrival(string type, string requestId)
    {
        var key = Key(type, requestId);
        lock (_lock)
        {
            if (_done.Contains(key))
            {
                return Task.CompletedTask;
            }
            if (!_waiting.TryGetValue(key, out var waiter))
            {
                waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiting[key] = waiter;
            }
            return waiter.Task;
        }
    }

    private void AcceptLoop()
    {
        while (!_disposed)
        {
            try
            {
                var connection = _socket.Accept();
                new Thread(() => Serve(connection)) { IsBackground = true, Name = "telemetry" }.Start();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                if (!_disposed)
                {
                    WarnOnce($"the telemetry listener stopped accepting ({e.Message})");
                }
                return;
            }
        }
    }

    private void Serve(Socket connection)
    {
        using (connection)
        {
            try
            {
                connection.ReceiveTimeout = (int)SilenceLimit.TotalMilliseconds;
                var reader = new HttpMessageReader(connection, MaxBatchBytes);
                var served = 0;
                while (!_disposed)
                {
                    // Poll is true for data and for a closed connection alike; the read tells which.
                    if (!reader.HasBuffered && !connection.Poll(served == 0 ? SilenceLimit : Timeout.InfiniteTimeSpan, SelectMode.SelectRead))
                    {
                        Interlocked.Increment(ref _silentClosed);
                        return;
                    }
                    if (reader.ReadLineOrEnd() is not { } requestLine)
                    {
                        return;
                    }
                    served++;
                    var headers = reader.ReadHeaders();
                    var body = reader.ReadBody(headers, toEndWithoutLength: false);
                    // Answer first: Lambda's push must never wait for the agent's bookkeeping.
                    connection.Send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8);
                    if (requestLine.StartsWith("POST ", StringComparison.Ordinal))
                    {
                        Read(body);
                    }
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                if (!_disposed)
                {
                    WarnOnce($"a telemetry connection failed ({e.Message})");
                }
            }
            catch (Exception e)
            {
                // An exception escaping a thread ends the process: whatever this is, it ends this connection only.
                WarnOnce($"a telemetry connection failed unexpectedly ({e.GetType().Name}: {e.Message})");
            }
        }
    }

    private void Read(byte[] body)
    {
        // JsonDocument checks strings' UTF-8 only when they are read (GetString throws then).
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            WarnOnce("a telemetry batch is not UTF-8 text; ignored");
            return;
        }
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                WarnOnce("a telemetry batch is not a JSON array; ignored");
                return;
            }
            foreach (var item in document.RootElement.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object
                    && item.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
                    && (type.ValueEquals(StartType) || type.ValueEquals(RuntimeDoneType))
                    && item.TryGetProperty("record", out var record) && record.ValueKind == JsonValueKind.Object
                    && record.TryGetProperty("requestId", out var id) && id.ValueKind == JsonValueKind.String)
                {
                    Arrived(Key(type.GetString()!, id.GetString()!));
                }
            }
        }
        catch (JsonException)
        {
            WarnOnce($"a telemetry batch is not valid JSON ({Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 40))}…); ignored");
        }
    }

    private void Arrived(string key)
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            if (_done.Add(key))
            {
                _doneOrder.Enqueue(key);
                if (_doneOrder.Count > RememberedEvents)
                {
                    _done.Remove(_doneOrder.Dequeue());
                }
            }
            _waiting.Remove(key, out waiter);
        }
        waiter?.TrySetResult();
    }

    private void WarnOnce(string message)
    {
        if (Interlocked.Exchange(ref _warned, 1) == 0)
        {
            _warn(message + "; further telemetry problems are not logged");
        }
    }
}
