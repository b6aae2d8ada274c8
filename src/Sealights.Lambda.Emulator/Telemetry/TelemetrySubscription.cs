using System.Net.Http.Headers;
using System.Threading.Channels;
using Sealights.Lambda.Emulator.Environment;

namespace Sealights.Lambda.Emulator.Telemetry;

/// <summary>
/// One subscriber's queue and its delivery loop: batches by maxItems / maxBytes / timeoutMs,
/// in order, one POST at a time. A full queue drops events (with a log line) rather than
/// ever blocking the emulator.
/// </summary>
internal sealed class TelemetrySubscription
{
    private const int QueueCapacity = 10_000;
    private const int MaxAttempts = 3;
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(5);

    private readonly Channel<byte[]> _queue = Channel.CreateBounded<byte[]>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _stop = new();
    private readonly TelemetryDispatcher _dispatcher;
    private readonly string _name;
    private long _dropped;

    public TelemetrySubscription(TelemetryDispatcher dispatcher, string name, TelemetrySettings settings)
    {
        _dispatcher = dispatcher;
        _name = name;
        Settings = settings;
    }

    public TelemetrySettings Settings { get; }

    public void Enqueue(byte[] envelope)
    {
        if (_queue.Writer.TryWrite(envelope))
        {
            return;
        }
        var dropped = Interlocked.Increment(ref _dropped);
        if (dropped == 1 || dropped % 1000 == 0)
        {
            _dispatcher.Log.Warn($"telemetry: queue for {_name} is full; {dropped} event(s) dropped");
        }
    }

    public void Start() => _ = Task.Run(PumpAsync);

    public void Stop()
    {
        _stop.Cancel();
        _queue.Writer.TryComplete();
    }

    private async Task PumpAsync()
    {
        var cancellationToken = _stop.Token;
        byte[]? carried = null;
        try
        {
            while (true)
            {
                var first = carried ?? await _queue.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                carried = null;
                var batch = new List<byte[]> { first };
                var size = first.Length + 2;
                var flushAt = Clock.After(Clock.Now, TimeSpan.FromMilliseconds(Settings.TimeoutMs));
                while (batch.Count < Settings.MaxItems)
                {
                    if (_queue.Reader.TryRead(out var next))
                    {
                        if (size + next.Length + 1 > Settings.MaxBytes)
                        {
                            carried = next;
                            break;
                        }
                        batch.Add(next);
                        size += next.Length + 1;
                        continue;
                    }
                    var remaining = Clock.Until(flushAt);
                    if (remaining == TimeSpan.Zero)
                    {
                        break;
                    }
                    using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    wait.CancelAfter(remaining);
                    try
                    {
                        if (!await _queue.Reader.WaitToReadAsync(wait.Token).ConfigureAwait(false))
                        {
                            break;
                        }
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }
                }
                await SendAsync(batch, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ChannelClosedException)
        {
        }
        catch (Exception e)
        {
            _dispatcher.Log.Error($"telemetry: delivery to {_name} stopped: {e.Message}");
        }
    }

    private async Task SendAsync(List<byte[]> batch, CancellationToken cancellationToken)
    {
        var body = new byte[batch.Sum(e => e.Length) + batch.Count + 1];
        var offset = 0;
        body[offset++] = (byte)'[';
        for (var i = 0; i < batch.Count; i++)
        {
            if (i > 0)
            {
                body[offset++] = (byte)',';
            }
            batch[i].CopyTo(body, offset);
            offset += batch[i].Length;
        }
        body[offset] = (byte)']';

        for (var attempt = 1; ; attempt++)
        {
            // Nothing is delivered into a frozen environment: the subscriber could not read it.
            var thawed = _dispatcher.WaitUntilThawedAsync(cancellationToken);
            if (!thawed.IsCompleted)
            {
                // Said so that tests can check the hold by this event rather than by waiting.
                _dispatcher.Log.Debug($"telemetry: {batch.Count} event(s) for {_name} wait for the thaw (freeze {_dispatcher.FreezeEpoch})");
            }
            await thawed.ConfigureAwait(false);
            var epoch = _dispatcher.FreezeEpoch;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(SendTimeout);
            try
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await _dispatcher.Http.PostAsync(Settings.Destination, content, timeout.Token).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    _dispatcher.Log.Debug($"telemetry: {_name} answered {(int)response.StatusCode} to {batch.Count} event(s)");
                }
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is HttpRequestException or OperationCanceledException)
            {
                if (e is OperationCanceledException && _dispatcher.FreezeEpoch != epoch && attempt < 10)
                {
                    continue; // timed out across a freeze: the subscriber was stopped, not broken
                }
                if (attempt >= MaxAttempts)
                {
                    _dispatcher.Log.Warn($"telemetry: dropped {batch.Count} event(s) for {_name} ({Settings.Destination}): {e.Message}");
                    return;
                }
                await Task.Delay(100 * attempt, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
