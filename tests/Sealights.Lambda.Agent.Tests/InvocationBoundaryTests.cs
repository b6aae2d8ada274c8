using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Net;
using System.Net.Sockets;
using Sealights.Coverage.Probes;
using Sealights.Lambda.Agent.Diagnostics;
using Sealights.Lambda.Agent.MethodHits;

namespace Sealights.Lambda.Agent.Tests;

/// <summary>
/// The probes library's invocation boundary, in this process (src/Sealights.Coverage.Probes/README.md,
/// "Invocation boundaries"): a session asking for <c>invocations=runtime-api</c> arms it; then the
/// HTTP client's request for the next invocation, to the address in <c>AWS_LAMBDA_RUNTIME_API</c>,
/// harvests what ran, named after the invocation whose response was posted before it. Requests
/// elsewhere harvest nothing. The library's state is per process: this is the only test that
/// registers a module in the test process.
/// </summary>
public sealed class InvocationBoundaryTests
{
    [Fact]
    public async Task The_runtime_clients_next_request_harvests_the_invocation_it_ends()
    {
        using var api = new AnsweringServer();
        using var decoy = new AnsweringServer();
        // Registered as outside Lambda: on Lambda without a diagnostic port (this test process has
        // none) the library would not make its source at all. The boundary reads the Runtime API's
        // address when it is armed, by the listener below.
        var hits = ProbeRegistry.Register(typeof(Anchor).TypeHandle, 10);
        Environment.SetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API", $"127.0.0.1:{api.Port}");
        using var events = new CoverageEvents();
        await events.WaitForAsync(e => e.EventName == "BoundariesArmed", TimeSpan.FromSeconds(10));
        Assert.Equal($"127.0.0.1:{api.Port}", events.Single("BoundariesArmed").Payload![0]);

        using var http = new HttpClient();
        hits[3] = 1;
        hits[7] = 1;
        await http.PostAsync($"{api.Root}2018-06-01/runtime/invocation/req-1/response", new StringContent("{}"));
        // Not the Runtime API, or not its next: nothing is harvested.
        await http.GetAsync($"{decoy.Root}2018-06-01/runtime/invocation/next");
        await http.GetAsync($"{api.Root}2018-06-01/runtime/invocation/nextish");
        await http.GetAsync($"{api.Root}2018-06-01/runtime/init/error");
        Assert.Empty(events.Named("InvocationEnded"));
        Assert.Equal(1, hits[3]);

        await http.GetAsync($"{api.Root}2018-06-01/runtime/invocation/next");

        // Harvested on the requesting thread, before the request left: the events are already here.
        var ended = Assert.Single(events.Named("InvocationEnded"));
        Assert.Equal("req-1", ended.Payload![1]);
        var sequence = (int)ended.Payload[0]!;
        Assert.True(sequence < 0, "boundary harvests count down from -1");
        var chunk = Assert.Single(events.Named("ModuleHits"), e => (int)e.Payload![0]! == sequence);
        Assert.Equal(typeof(Anchor).Assembly.GetName().Name, chunk.Payload![2]);
        Assert.Equal(typeof(Anchor).Module.ModuleVersionId, chunk.Payload[3]);
        Assert.Equal([3, 7], Indices((byte[])chunk.Payload[5]!));
        Assert.All(hits, h => Assert.Equal(0, h));

        // A next without a response before it (the first, after init): an empty request id.
        hits[5] = 1;
        await http.GetAsync($"{api.Root}2018-06-01/runtime/invocation/next");
        var second = events.Named("InvocationEnded").Last();
        Assert.Equal("", second.Payload![1]);
        Assert.True((int)second.Payload[0]! < sequence);
        Assert.Equal([5], Indices((byte[])events.Named("ModuleHits").Last().Payload![5]!));

        // With the agent's socket (harvests=<path>, Probes README "Harvest datagrams"): one
        // datagram per harvest, already there when the request leaves, and no events for it.
        var path = Path.Combine(Path.GetTempPath(), $"sl-harvests-{Guid.NewGuid():N}.sock");
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified))
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            events.EnableAgain(new Dictionary<string, string?> { ["invocations"] = "runtime-api", ["harvests"] = path });
            var endedAsEvents = events.Named("InvocationEnded").Count();
            hits[2] = 1;
            hits[9] = 1;
            await http.PostAsync($"{api.Root}2018-06-01/runtime/invocation/req-3/response", new StringContent("{}"));
            await http.GetAsync($"{api.Root}2018-06-01/runtime/invocation/next");
            Assert.Equal(endedAsEvents, events.Named("InvocationEnded").Count());
            Assert.True(socket.Available > 0, "the datagram is there when the next request has left");
            var datagram = new byte[HarvestDatagramSocket.MaxBytes];
            var harvest = ReadHarvest(datagram.AsSpan(0, socket.Receive(datagram)));
            Assert.Equal("req-3", harvest.RequestId);
            var module = Assert.Single(harvest.Modules);
            Assert.Equal(typeof(Anchor).Module.ModuleVersionId, module.Mvid);
            Assert.Equal(10, module.MethodDefCount);
            Assert.Equal([2, 9], module.Indices);
            Assert.All(hits, h => Assert.Equal(0, h));

            // An agent that does not read (starved): once its queue is full the harvests come as
            // events, and every one comes one way or the other.
            var before = events.Named("InvocationEnded").Count();
            for (var i = 0; i < 20; i++)
            {
                hits[i % 10] = 1;
                await http.PostAsync($"{api.Root}2018-06-01/runtime/invocation/q{i}/response", new StringContent("{}"));
                await http.GetAsync($"{api.Root}2018-06-01/runtime/invocation/next");
            }

            var asEvents = events.Named("InvocationEnded").Skip(before).Select(e => (string)e.Payload![1]!).ToList();
            var asDatagrams = new List<string>();
            while (socket.Available > 0)
            {
                asDatagrams.Add(ReadHarvest(datagram.AsSpan(0, socket.Receive(datagram))).RequestId!);
            }

            Assert.NotEmpty(asDatagrams);
            Assert.NotEmpty(asEvents);
            Assert.Equal(Enumerable.Range(0, 20).Select(i => $"q{i}"), asDatagrams.Concat(asEvents).OrderBy(id => int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture)));
        }

        // The socket gone: the harvest goes as events after all, nothing lost.
        File.Delete(path);
        hits[4] = 1;
        await http.PostAsync($"{api.Root}2018-06-01/runtime/invocation/req-4/response", new StringContent("{}"));
        await http.GetAsync($"{api.Root}2018-06-01/runtime/invocation/next");
        Assert.Equal("req-4", events.Named("InvocationEnded").Last().Payload![1]);
        Assert.Equal([4], Indices((byte[])events.Named("ModuleHits").Last().Payload![5]!));
    }

    // The agent's own reading of a datagram: the handler its standing session uses.
    private static ProbeFlushReader ReadHarvest(ReadOnlySpan<byte> datagram)
    {
        ProbeFlushReader? read = null;
        var harvests = new InvocationHarvests((reader, _) => read = reader, _ => { });
        Assert.True(HarvestDatagramSocket.TryRead(datagram, harvests, out var problem), problem);
        harvests.HandOver(all: true);
        return Assert.IsType<ProbeFlushReader>(read);
    }

    private static int[] Indices(byte[] bytes) =>
        Enumerable.Range(0, bytes.Length / 4).Select(i => BitConverter.ToInt32(bytes, i * 4)).ToArray();

    private sealed class Anchor;

    /// <summary>Enables the coverage source as the agent's standing session does, and keeps what it writes.</summary>
    private sealed class CoverageEvents : EventListener
    {
        private readonly ConcurrentQueue<EventWrittenEventArgs> _events = new();

        public IEnumerable<EventWrittenEventArgs> Named(string name) => _events.Where(e => e.EventName == name).ToList();

        public EventWrittenEventArgs Single(string name) => Assert.Single(Named(name));

        public async Task WaitForAsync(Func<EventWrittenEventArgs, bool> match, TimeSpan limit)
        {
            var until = DateTime.UtcNow + limit;
            while (!_events.Any(match))
            {
                Assert.True(DateTime.UtcNow < until, $"the library never answered invocations=runtime-api; events: {string.Join(", ", _events.Select(e => $"{e.EventName} {string.Join("|", e.Payload ?? [])}"))}");
                await Task.Delay(20);
            }
        }

        private EventSource? _source;

        /// <summary>Enables the source once more, with other arguments (as a second session would).</summary>
        public void EnableAgain(Dictionary<string, string?> arguments) =>
            EnableEvents(_source ?? throw new InvalidOperationException("no coverage source yet"), EventLevel.Informational, EventKeywords.All, arguments);

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Sealights-Coverage")
            {
                _source = eventSource;
                EnableEvents(eventSource, EventLevel.Informational, EventKeywords.All, new Dictionary<string, string?> { ["invocations"] = "runtime-api" });
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData) => _events.Enqueue(eventData);
    }

    /// <summary>An HTTP server on loopback that answers every request 200.</summary>
    private sealed class AnsweringServer : IDisposable
    {
        private readonly HttpListener _listener = new();

        public AnsweringServer()
        {
            Port = FreePort();
            _listener.Prefixes.Add(Root);
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    try
                    {
                        var context = await _listener.GetContextAsync();
                        context.Response.StatusCode = 200;
                        context.Response.Close();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                    {
                        return;
                    }
                }
            });
        }

        public int Port { get; }

        public string Root => $"http://127.0.0.1:{Port}/";

        public void Dispose() => _listener.Close();

        private static int FreePort()
        {
            var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            return port;
        }
    }
}
