using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Sealights.Lambda.Emulator.Environment;
using Sealights.Lambda.Emulator.Hosting;

namespace Sealights.Lambda.Emulator.Telemetry;

/// <summary>
/// Telemetry API delivery. Platform events are kept for the current environment (so a
/// subscriber also gets what happened before it subscribed, like initStart) and fanned out
/// to one bounded queue per subscriber. Deliveries wait while the environment is frozen, as
/// on Lambda; a slow or dead subscriber only ever holds up its own queue.
/// </summary>
internal sealed class TelemetryDispatcher : IDisposable
{
    private const int BacklogLimit = 1000;

    private readonly object _gate = new();
    private readonly List<byte[]> _backlog = [];
    private readonly Dictionary<string, TelemetrySubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly EmulatorLog _log;
    private TaskCompletionSource _thawed = NewCompleted();
    private int _freezeEpoch;

    public TelemetryDispatcher(EmulatorLog log)
    {
        _log = log;
        Http = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(2),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            ConnectCallback = ConnectToSandboxAsync,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    internal HttpClient Http { get; }

    internal EmulatorLog Log => _log;

    /// <summary>Bumped at each freeze: a delivery that spanned a freeze is retried, not counted as failed.</summary>
    internal int FreezeEpoch => Volatile.Read(ref _freezeEpoch);

    public void SetFrozen(bool frozen)
    {
        lock (_gate)
        {
            if (frozen && _thawed.Task.IsCompleted)
            {
                _thawed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Interlocked.Increment(ref _freezeEpoch);
            }
            else if (!frozen)
            {
                _thawed.TrySetResult();
            }
        }
    }

    internal Task WaitUntilThawedAsync(CancellationToken cancellationToken)
    {
        Task thawed;
        lock (_gate)
        {
            thawed = _thawed.Task;
        }
        return thawed.WaitAsync(cancellationToken);
    }

    /// <summary>Queues a platform event: <c>{"time","type","record"}</c>.</summary>
    public void EmitPlatform<T>(string type, T record, JsonTypeInfo<T> typeInfo)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("time", Clock.Rfc3339(DateTime.UtcNow));
            writer.WriteString("type", type);
            writer.WritePropertyName("record");
            JsonSerializer.Serialize(writer, record, typeInfo);
            writer.WriteEndObject();
        }
        var envelope = buffer.WrittenSpan.ToArray();
        lock (_gate)
        {
            if (_backlog.Count < BacklogLimit)
            {
                _backlog.Add(envelope);
            }
            foreach (var subscription in _subscriptions.Values)
            {
                if (subscription.Settings.WantsPlatform)
                {
                    subscription.Enqueue(envelope);
                }
            }
        }
    }

    /// <summary>Starts (or replaces) an extension's subscription; it first gets this environment's earlier platform events.</summary>
    public void Subscribe(string extensionName, TelemetrySettings settings)
    {
        lock (_gate)
        {
            if (_subscriptions.Remove(extensionName, out var previous))
            {
                previous.Stop();
            }
            var subscription = new TelemetrySubscription(this, extensionName, settings);
            if (settings.WantsPlatform)
            {
                foreach (var envelope in _backlog)
                {
                    subscription.Enqueue(envelope);
                }
            }
            _subscriptions[extensionName] = subscription;
            subscription.Start();
        }
        _log.Info($"telemetry: {extensionName} subscribed to [{string.Join(", ", settings.Types)}] at {settings.Destination}");
    }

    /// <summary>The environment is gone (its subscribers with it): stop every delivery and forget its events.</summary>
    public void EndEnvironment()
    {
        lock (_gate)
        {
            foreach (var subscription in _subscriptions.Values)
            {
                subscription.Stop();
            }
            _subscriptions.Clear();
            _backlog.Clear();
        }
    }

    public void Dispose()
    {
        EndEnvironment();
        Http.Dispose();
    }

    /// <summary>The sandbox's own name has no DNS entry here: every subscriber host is this machine.</summary>
    private static async ValueTask<Stream> ConnectToSandboxAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var address = IPAddress.TryParse(context.DnsEndPoint.Host, out var literal) ? literal : IPAddress.Loopback;
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static TaskCompletionSource NewCompleted()
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        source.SetResult();
        return source;
    }
}
