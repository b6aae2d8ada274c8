using Microsoft.Diagnostics.NETCore.Client;

namespace Sealights.Lambda.Agent.Diagnostics;

/// <summary>
/// One EventPipe session in the function's runtime and the thread that reads its stream.
/// The stream ends when the session is stopped (after the runtime flushed its buffers and the
/// rundown) or when the process exits; <see cref="Completion"/> tells either.
/// </summary>
internal sealed class TraceSession : IDisposable
{
    private readonly EventPipeSession _session;
    private readonly CountingStream _stream;
    private int _stopRequested;

    private TraceSession(EventPipeSession session, Action<Stream> read, TraceCounters counters, Action<Exception> onReadError)
    {
        _session = session;
        _stream = new CountingStream(session.EventStream, counters);
        // A dedicated thread: the parser blocks on the socket for the session's whole life.
        Completion = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    read(_stream);
                }
                catch (Exception e)
                {
                    // A killed process cuts its stream mid-block; what was parsed still counts.
                    onReadError(e);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
    }

    /// <summary>Completes when the stream has been read to its end, or reading it failed (reported, never thrown).</summary>
    public Task Completion { get; }

    /// <summary>True once <see cref="StopAsync"/> was called: an end before that means the process went away.</summary>
    public bool StopRequested => Volatile.Read(ref _stopRequested) != 0;

    /// <summary>Starts a session and its reader.</summary>
    /// <param name="client">The connected runtime.</param>
    /// <param name="rundown">Whether the session's stop lists what ran before it (first session of a runtime).</param>
    /// <param name="readyToRun">Whether to ask for first calls into ReadyToRun code too (see <see cref="RuntimeEventProviders.Sessions"/>).</param>
    /// <param name="read">Reads the stream to its end on the session's thread.</param>
    /// <param name="counters">Where the bytes read are counted.</param>
    /// <param name="onReadError">Told when reading the stream failed (the session then counts as ended).</param>
    /// <param name="cancellationToken">Bounds the start command.</param>
    public static async Task<TraceSession> StartAsync(
        DiagnosticsClient client,
        bool rundown,
        bool readyToRun,
        Action<Stream> read,
        TraceCounters counters,
        Action<Exception> onReadError,
        CancellationToken cancellationToken)
    {
        return await StartAsync(client, RuntimeEventProviders.Sessions(rundown, readyToRun), read, counters, onReadError, cancellationToken);
    }

    /// <summary>Starts a session with the first of <paramref name="configurations"/> the runtime accepts, and its reader.</summary>
    public static async Task<TraceSession> StartAsync(
        DiagnosticsClient client,
        IReadOnlyList<EventPipeSessionConfiguration> configurations,
        Action<Stream> read,
        TraceCounters counters,
        Action<Exception> onReadError,
        CancellationToken cancellationToken)
    {
        EventPipeSession? session = null;
        for (var i = 0; session is null; i++)
        {
            try
            {
                session = await client.StartEventPipeSessionAsync(configurations[i], cancellationToken);
            }
            catch (DiagnosticsClientException) when (i < configurations.Count - 1)
            {
                // An older runtime refuses this command version; the next configuration asks less of it.
            }
        }

        counters.SessionStarted();
        return new TraceSession(session, read, counters, onReadError);
    }

    /// <summary>
    /// Stops the session and waits until its stream is read to the end: the runtime flushes the
    /// buffered events, then the rundown. Returns early, without error, if the process is gone.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 0 && !Completion.IsCompleted)
        {
            using var stopCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var stop = _session.StopAsync(stopCancel.Token);
            // A dead runtime never answers (the stop would wait for a connection that never
            // comes); its stream has already ended.
            if (await Task.WhenAny(stop, Completion) != stop)
            {
                stopCancel.Cancel();
            }

            try
            {
                await stop;
            }
            catch (Exception e) when (e is OperationCanceledException or DiagnosticsClientException or IOException or ObjectDisposedException or TimeoutException)
            {
                // Gone or already stopping: the stream's end below is what counts.
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        await Completion.WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 0)
        {
            // EventPipeSession.Dispose sends a blocking Stop unless one was issued, and against a
            // dead runtime that waits for a connection that never comes. A stop with a cancelled
            // token marks it issued without sending; closing the stream below ends the session.
            _ = _session.StopAsync(new CancellationToken(canceled: true))
                .ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        // Closes the stream, so a reader blocked on it ends.
        _session.Dispose();
    }

    /// <summary>Counts what the session costs on the wire (for the log and the benchmarks).</summary>
    private sealed class CountingStream(Stream inner, TraceCounters counters) : Stream
    {

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Counted(inner.Read(buffer));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Counted(await inner.ReadAsync(buffer, cancellationToken));

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Counted(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Counted(int read)
        {
            counters.AddBytes(read);
            return read;
        }
    }
}
