using System.Buffers.Binary;
using System.Net.Sockets;
using Sealights.Lambda.Agent.Diagnostics.NetTrace;

namespace Sealights.Lambda.Agent.Diagnostics;

/// <summary>
/// The agent's end of the probes library's harvest datagrams (src/Sealights.Coverage.Probes/README.md,
/// "Harvest datagrams"): a Unix datagram socket in the agent's private folder, offered to a probed
/// runtime with its standing session (<c>harvests=&lt;path&gt;</c>). An invocation's harvest then
/// arrives as it is taken, at the invocation's end, instead of with the runtime's next EventPipe
/// writer pass (~100 ms later); each datagram's records are handed on as the coverage events they
/// would have been. One socket per runtime process, read on a thread of its own.
/// </summary>
internal sealed class HarvestDatagramSocket : IDisposable
{
    /// <summary>The library's limit (larger harvests come as events), and this reader's.</summary>
    public const int MaxBytes = 128 * 1024;

    private const uint Magic = 0x31484C53; // "SLH1"
    private const int HeaderBytes = 12;
    private const int RecordHeaderBytes = 8;

    private readonly Socket _socket;
    private readonly INetTraceEventHandler _handler;
    private readonly Action<string> _problem;
    private readonly TraceCounters? _counters;
    private volatile bool _disposed;

    private HarvestDatagramSocket(Socket socket, string path, INetTraceEventHandler handler, Action<string> problem, TraceCounters? counters)
    {
        _socket = socket;
        Path = path;
        _handler = handler;
        _problem = problem;
        _counters = counters;
        new Thread(ReceiveLoop) { IsBackground = true, Name = "harvest-datagrams" }.Start();
    }

    /// <summary>Where the runtime sends its harvests.</summary>
    public string Path { get; }

    /// <summary>
    /// Binds a socket at <paramref name="path"/> (replacing a stale file) and reads it into
    /// <paramref name="handler"/> (which also reads the standing session's stream: it must take
    /// events from two threads). Null, with the reason in <paramref name="problem"/>, when it
    /// cannot: the harvests then come as events.
    /// </summary>
    public static HarvestDatagramSocket? Bind(string path, INetTraceEventHandler handler, Action<string> problem, TraceCounters? counters = null)
    {
        Socket? socket = null;
        try
        {
            File.Delete(path);
            socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            // Harvests that wait while the agent is busy (the kernel caps the value at net.core.rmem_max).
            socket.ReceiveBufferSize = 8 * MaxBytes;
            socket.Bind(new UnixDomainSocketEndPoint(path));
            return new HarvestDatagramSocket(socket, path, handler, problem, counters);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            socket?.Dispose();
            problem($"no harvest socket at {path} ({e.Message}): harvests come with the runtime's EventPipe writer, ~100 ms after each invocation");
            return null;
        }
    }

    /// <summary>
    /// Hands the records of one datagram to <paramref name="handler"/> as coverage events. Bounded:
    /// every length is checked against what is left; a datagram that does not parse is refused whole
    /// (nothing of it handed on) with the reason. Throws nothing of its own (the handler's faults
    /// pass through: the receive loop catches them).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> datagram, INetTraceEventHandler handler, out string problem)
    {
        if (datagram.Length < HeaderBytes || BinaryPrimitives.ReadUInt32LittleEndian(datagram) != Magic)
        {
            problem = $"a datagram of {datagram.Length} bytes without the harvest header";
            return false;
        }

        var ticks = BinaryPrimitives.ReadInt64LittleEndian(datagram[4..]);
        if (ticks < 0 || ticks > DateTime.MaxValue.Ticks)
        {
            problem = "a harvest datagram with an impossible time";
            return false;
        }

        // Checked whole before anything is handed on: a harvest is taken entirely or not at all.
        var records = datagram[HeaderBytes..];
        for (var rest = records; rest.Length > 0;)
        {
            if (rest.Length < RecordHeaderBytes)
            {
                problem = "a harvest datagram cut inside a record's header";
                return false;
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(rest[4..]);
            if (length < 0 || length > rest.Length - RecordHeaderBytes)
            {
                problem = $"a harvest record of {length} bytes where {rest.Length - RecordHeaderBytes} are left";
                return false;
            }

            rest = rest[(RecordHeaderBytes + length)..];
        }

        var at = new DateTime(ticks, DateTimeKind.Utc);
        while (records.Length > 0)
        {
            var eventId = BinaryPrimitives.ReadInt32LittleEndian(records);
            var length = BinaryPrimitives.ReadInt32LittleEndian(records[4..]);
            handler.OnEvent(new NetTraceEvent(TraceProvider.Coverage, eventId, 0, at, records.Slice(RecordHeaderBytes, length)));
            records = records[(RecordHeaderBytes + length)..];
        }

        problem = "";
        return true;
    }

    public void Dispose()
    {
        _disposed = true;
        _socket.Dispose();
        try
        {
            File.Delete(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The private folder goes with the agent anyway.
        }
    }

    private void ReceiveLoop()
    {
        // Mapping and spooling a harvest must not delay the agent's next (its main thread, at the
        // agent's nice 10) nor take CPU from the function: idle priority. On one vCPU it then runs
        // once both wait, e.g. while the agent waits for it before a send.
        Lifecycle.CpuPriority.LowerThisThread(Lifecycle.CpuPriority.Idle);
        // One more byte than any datagram may have: a larger one shows as cut, and is refused.
        var buffer = new byte[MaxBytes + 1];
        while (!_disposed)
        {
            int received;
            try
            {
                received = _socket.Receive(buffer);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                if (!_disposed)
                {
                    _problem($"the harvest socket stopped ({e.Message}): later harvests come with the runtime's EventPipe writer");
                }

                return;
            }

            try
            {
                var read = false;
                var problem = $"a datagram over {MaxBytes} bytes";
                if (received <= MaxBytes)
                {
                    read = TryRead(buffer.AsSpan(0, received), _handler, out problem);
                }

                if (read)
                {
                    _counters?.HarvestDatagramRead();
                }
                else
                {
                    _problem($"a harvest datagram was refused ({problem}): skipped");
                }
            }
            catch (Exception e)
            {
                // The handler's own fault: this harvest is lost, the socket goes on.
                _problem($"a harvest datagram could not be taken ({e.GetType().Name}: {e.Message}): its hits are lost");
            }
        }
    }
}
