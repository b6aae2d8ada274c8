using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Sealights.Coverage.Tokens;
using Sealights.Lambda.Agent.Delivery;
using Sealights.Lambda.Agent.Diagnostics;
using Sealights.Lambda.Agent.Diagnostics.NetTrace;
using Sealights.Lambda.Agent.Lifecycle;
using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Tests.Fuzzing;

/// <summary>The session stream: only <see cref="EndOfStreamException"/> or <see cref="InvalidDataException"/>, raised by the reader's own checks.</summary>
internal sealed class NetTraceTarget : IFuzzTarget
{
    public string Name => "nettrace";

    public string Corpus => "nettrace";

    public int MaxInputLength => 64 * 1024;

    // The reader's two buffers (192 KB) and its metadata table; never a claimed block size.
    public long AllocationLimit(byte[] input) => (1024 * 1024) + (8L * input.Length);

    public void Run(byte[] input)
    {
        try
        {
            new NetTraceReader(new MemoryStream(input)).Read(new Consume());
        }
        catch (EndOfStreamException)
        {
        }
        catch (InvalidDataException e) when (e.InnerException is not null)
        {
            throw new FuzzFinding($"wrapped {e.InnerException.GetType().Name}", $"a runtime exception reached the net instead of a check: {e.Message}", e.InnerException);
        }
        catch (InvalidDataException)
        {
        }
    }

    private sealed class Consume : INetTraceEventHandler
    {
        private int _sum;

        public void OnTraceStarted(int processId)
        {
        }

        // Touches every payload byte, as the agent's handlers may.
        public void OnEvent(in NetTraceEvent traceEvent)
        {
            foreach (var b in traceEvent.Payload)
            {
                _sum += b;
            }
        }
    }
}

/// <summary>
/// A probed runtime's harvest datagram, as the agent takes it: <see cref="HarvestDatagramSocket.TryRead"/>
/// into the standing session's reader (<see cref="InvocationHarvests"/>, its <see cref="ProbeFlushReader"/>s),
/// then handed over. Refusals are answers, never exceptions; memory follows the datagram.
/// </summary>
internal sealed class HarvestDatagramTarget : IFuzzTarget
{
    public string Name => "harvest-datagram";

    public string Corpus => "harvest-datagram";

    public int MaxInputLength => HarvestDatagramSocket.MaxBytes;

    // Indices kept as ints (4 per 4 bytes, list growth doubling) and the readers' tables.
    public long AllocationLimit(byte[] input) => (256 * 1024) + (16L * input.Length);

    public void Run(byte[] input)
    {
        var indices = 0;
        var harvests = new InvocationHarvests((reader, _) => indices += reader.Modules.Sum(m => m.Indices.Count), _ => { });
        HarvestDatagramSocket.TryRead(input, harvests, out _);
        harvests.HandOver(all: true);
        if (indices > input.Length / 4)
        {
            throw new FuzzFinding("indices", $"{indices} indices from {input.Length} bytes: more than the datagram holds");
        }
    }
}

/// <summary>
/// The HTTP reader on the Telemetry listener's side (requests, as <c>TelemetryListener.Serve</c>
/// reads them): only <see cref="IOException"/> and the socket's own exceptions, and memory that
/// follows what arrived.
/// </summary>
internal sealed class HttpRequestTarget : IFuzzTarget, IDisposable
{
    private readonly TcpListener _server = new(IPAddress.Loopback, 0);

    public HttpRequestTarget() => _server.Start();

    public string Name => "http-request";

    public string Corpus => "http-request";

    public int MaxInputLength => 64 * 1024;

    // Lines are kept as strings (UTF-16, copied while trimmed): some tens of bytes per byte sent.
    public long AllocationLimit(byte[] input) => (2 * 1024 * 1024) + (32L * input.Length);

    public void Run(byte[] input)
    {
        using var pair = SocketPair.Over(_server, input);
        var reader = new HttpMessageReader(pair.Reading, 2 * 1024 * 1024);
        try
        {
            for (var messages = 0; messages < 16 && reader.ReadLineOrEnd() is not null; messages++)
            {
                reader.ReadBody(reader.ReadHeaders(), toEndWithoutLength: false);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
            throw new FuzzFinding("read past the end", "the reader waited for more than the peer sent and closed");
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
    }

    public void Dispose() => _server.Dispose();
}

/// <summary>
/// The Telemetry listener as Lambda meets it: each input on a new connection to a new listener,
/// which must close the connection, log at most one line that is not an unexpected failure, and
/// still hear a real <c>platform.runtimeDone</c> on the next connection.
/// </summary>
internal sealed class TelemetryListenerTarget : IFuzzTarget
{
    private const string RealBatch = """[{"time":"2026-12-06T00:00:00Z","type":"platform.runtimeDone","record":{"requestId":"r","status":"ok"}}]""";

    private static readonly byte[] RealEvent = Encoding.ASCII.GetBytes(
        $"POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {RealBatch.Length}\r\n\r\n{RealBatch}");

    public string Name => "telemetry-listener";

    public string Corpus => "http-request";

    public int MaxInputLength => 64 * 1024;

    // The listener reads on its own threads: their allocations are not this thread's.
    public long AllocationLimit(byte[] input) => long.MaxValue;

    public void Run(byte[] input)
    {
        var warnings = new List<string>();
        using var listener = TelemetryListener.Start(w => { lock (warnings) { warnings.Add(w); } }, "/nonexistent");
        var done = listener.RuntimeDone("r");
        foreach (var bytes in new[] { input, RealEvent })
        {
            using var peer = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
            peer.Connect(IPAddress.Loopback, listener.Destination.Port);
            peer.Send(bytes);
            peer.Shutdown(SocketShutdown.Send);
            try
            {
                var buffer = new byte[4096];
                while (peer.Receive(buffer) > 0)
                {
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                throw new FuzzFinding("connection left open", "the listener kept a finished connection open for 10 s");
            }
            catch (SocketException)
            {
                // Reset by the listener: closed as well.
            }
        }
        if (!done.Wait(TimeSpan.FromSeconds(10)))
        {
            throw new FuzzFinding("deaf after input", "the listener did not hear platform.runtimeDone after this input");
        }
        lock (warnings)
        {
            if (warnings.Count > 1 || warnings.Any(w => w.Contains("unexpectedly", StringComparison.Ordinal)))
            {
                throw new FuzzFinding("unexpected failure", string.Join(" | ", warnings));
            }
        }
    }
}

/// <summary>
/// The HTTP reader on the Extensions API client's side: Lambda's answer is the input. The client
/// may only return, or throw <see cref="IOException"/>, <see cref="SocketException"/> or
/// <see cref="ExtensionsApiException"/>: what the agent's callers catch (the telemetry
/// subscription falls back to flushing at INVOKE on them).
/// </summary>
internal sealed class HttpResponseTarget : IFuzzTarget, IDisposable
{
    private readonly TcpListener _server = new(IPAddress.Loopback, 0);
    private readonly Thread _answering;
    private volatile byte[] _answer = [];

    public HttpResponseTarget()
    {
        _server.Start();
        _answering = new Thread(Answer) { IsBackground = true, Name = "fuzz-extensions-api" };
        _answering.Start();
    }

    public string Name => "http-response";

    public string Corpus => "http-response";

    public int MaxInputLength => 64 * 1024;

    public long AllocationLimit(byte[] input) => (2 * 1024 * 1024) + (32L * input.Length);

    public void Run(byte[] input)
    {
        _answer = input;
        var address = $"127.0.0.1:{((IPEndPoint)_server.LocalEndpoint).Port}";
        foreach (var call in new Action<ExtensionsApiClient>[]
                 {
                     client => client.SubscribeToTelemetry(new Uri("http://sandbox.localdomain:9001/")),
                     client => client.Next(),
                     client => client.Register("fuzz", ["INVOKE", "SHUTDOWN"]),
                 })
        {
            using var client = new ExtensionsApiClient(address);
            client.UseRegistration("ext-1");
            try
            {
                call(client);
            }
            catch (Exception e) when (e is IOException or SocketException or ExtensionsApiException)
            {
            }
        }
    }

    public void Dispose() => _server.Dispose();

    /// <summary>Each connection: read the request (head and Content-Length body), send the current answer, end the stream.</summary>
    private void Answer()
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            Socket peer;
            try
            {
                peer = _server.AcceptSocket();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                // Disposed (stopped) meanwhile: InvalidOperationException "Not listening" ends this thread too.
                return;
            }
            using (peer)
            {
                try
                {
                    peer.ReceiveTimeout = 10_000;
                    var received = 0;
                    while (!RequestComplete(buffer.AsSpan(0, received)))
                    {
                        var read = peer.Receive(buffer, received, buffer.Length - received, SocketFlags.None);
                        if (read == 0)
                        {
                            break;
                        }
                        received += read;
                    }
                    peer.Send(_answer);
                    peer.Shutdown(SocketShutdown.Send);
                    while (peer.Receive(buffer) > 0)
                    {
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // The client gave up first, or the target was disposed: an exception escaping this thread would end the test host.
                }
            }
        }
    }

    private static bool RequestComplete(ReadOnlySpan<byte> received)
    {
        var text = Encoding.ASCII.GetString(received);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }
        var length = Regex.Match(text[..end], @"Content-Length: (\d+)", RegexOptions.IgnoreCase);
        return !length.Success || received.Length - end - 4 >= int.Parse(length.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// JSON the agent reads from Sealights (remote configuration, build session, active execution)
/// and from the Extensions API (events): none may throw but the active execution's documented
/// <see cref="System.Text.Json.JsonException"/>.
/// </summary>
internal sealed class BackendJsonTarget : IFuzzTarget
{
    public string Name => "backend-json";

    public string Corpus => "backend-json";

    public int MaxInputLength => 16 * 1024;

    public long AllocationLimit(byte[] input) => (1024 * 1024) + (64L * input.Length);

    public void Run(byte[] input)
    {
        _ = RemoteConfiguration.Parse(input)?.Describe();
        _ = BuildSessionInfo.Parse(input);
        try
        {
            _ = SealightsRoutes.ParseActiveExecution(input);
        }
        catch (System.Text.Json.JsonException)
        {
        }
        _ = ExtensionEvent.Parse(Encoding.UTF8.GetString(input));
    }
}

/// <summary><c>sealights.json</c> beside the function: settings are read or refused with a line, never an exception, never the token in a line.</summary>
internal sealed class ConfigFileTarget : IFuzzTarget, IDisposable
{
    private readonly string _taskRoot = Directory.CreateTempSubdirectory("sl-fuzz-task-").FullName;
    private readonly string _rawToken = TokenTarget.Token("{\"subject\":\"customer@test.example\",\"x-sl-role\":\"agent\",\"x-sl-server\":\"http://127.0.0.1:9/api\"}");
    private readonly SealightsToken _token;

    public ConfigFileTarget()
    {
        _token = SealightsToken.TryParse(_rawToken, out var token, out var problem) ? token : throw new InvalidOperationException(problem);
    }

    public string Name => "sealights-json";

    public string Corpus => "sealights-json";

    public int MaxInputLength => 16 * 1024;

    public long AllocationLimit(byte[] input) => (4 * 1024 * 1024) + (64L * input.Length);

    public void Run(byte[] input)
    {
        File.WriteAllBytes(Path.Combine(_taskRoot, "sealights.json"), input);
        var lines = new List<string>();
        _ = DeliveryOptions.TryCreate(_ => null, _taskRoot, _token, lines.Add);
        if (lines.Any(line => line.Contains(_rawToken, StringComparison.Ordinal)))
        {
            throw new FuzzFinding("token in a line", "a log line carries the token");
        }
    }

    public void Dispose() => Directory.Delete(_taskRoot, recursive: true);
}

/// <summary>
/// The token parser, on tokens whose claims are the input (and on the input as a token): it
/// never throws, and a refusal never quotes the token's payload or signature.
/// </summary>
internal sealed class TokenTarget : IFuzzTarget
{
    private const string Signature = "c2lnbmF0dXJlLW5vdC12YWxpZA";

    public string Name => "token";

    public string Corpus => "token-claims";

    public int MaxInputLength => 8 * 1024;

    public long AllocationLimit(byte[] input) => (1024 * 1024) + (64L * input.Length);

    public static string Token(string claims) => $"{Part("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"u8)}.{Part(Encoding.UTF8.GetBytes(claims))}.{Signature}";

    public void Run(byte[] input)
    {
        var payload = Part(input);
        foreach (var raw in new[] { $"eyJhbGciOiJIUzI1NiJ9.{payload}.{Signature}", Encoding.UTF8.GetString(input) })
        {
            if (SealightsToken.TryParse(raw, out var token, out var problem))
            {
                if (token.ToString().Contains(payload, StringComparison.Ordinal) && payload.Length >= 8)
                {
                    throw new FuzzFinding("token printed", "a parsed token prints its payload");
                }
            }
            else if ((payload.Length >= 8 && problem.Contains(payload, StringComparison.Ordinal)) || problem.Contains(Signature, StringComparison.Ordinal))
            {
                throw new FuzzFinding("token in a problem", $"a refusal quotes the token: {problem}");
            }
        }
    }

    private static string Part(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Both ends of a loopback connection whose writing end sent the input and ended its stream.</summary>
internal sealed class SocketPair : IDisposable
{
    private readonly Socket _writing;

    private SocketPair(Socket reading, Socket writing)
    {
        Reading = reading;
        _writing = writing;
    }

    public Socket Reading { get; }

    public static SocketPair Over(TcpListener server, byte[] input)
    {
        var writing = new Socket(SocketType.Stream, ProtocolType.Tcp) { SendBufferSize = 256 * 1024 };
        writing.Connect((IPEndPoint)server.LocalEndpoint);
        var reading = server.AcceptSocket();
        // A reader that waits for more than was sent is a finding, not a stuck test.
        reading.ReceiveTimeout = 10_000;
        // Fits the loopback buffers (inputs are at most 64 KB): no reader needed while sending.
        writing.Send(input);
        writing.Shutdown(SocketShutdown.Send);
        return new SocketPair(reading, writing);
    }

    public void Dispose()
    {
        Reading.Dispose();
        _writing.Dispose();
    }
}
