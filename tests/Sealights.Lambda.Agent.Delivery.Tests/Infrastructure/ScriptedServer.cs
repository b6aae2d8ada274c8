using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;

/// <summary>
/// A loopback HTTP/1.1 server that answers every request with the answer the test set last
/// (status, body, optional hold), one request per connection, and records each request line.
/// For answers the test backend does not give (404, a body that is not JSON, 401 on one route).
/// </summary>
public sealed class ScriptedServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _requests = [];
    private readonly Task _serving;
    private (int Status, string Body, TimeSpan Hold) _answer = (200, "", TimeSpan.Zero);

    public ScriptedServer()
    {
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public Uri Api => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/api");

    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public void Answer(int status, string body = "", TimeSpan? hold = null)
    {
        lock (_requests)
        {
            _answer = (status, body, hold ?? TimeSpan.Zero);
        }
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => AnswerAsync(client));
        }
    }

    private async Task AnswerAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var head = new StringBuilder();
                var buffer = new byte[4096];
                while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await stream.ReadAsync(buffer, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    head.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }

                (int Status, string Body, TimeSpan Hold) answer;
                lock (_requests)
                {
                    _requests.Add(head.ToString()[..head.ToString().IndexOf("\r\n", StringComparison.Ordinal)]);
                    answer = _answer;
                }

                await Task.Delay(answer.Hold, _stop.Token);
                var body = Encoding.UTF8.GetBytes(answer.Body);
                var response = Encoding.ASCII.GetBytes($"HTTP/1.1 {answer.Status} Scripted\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
                await stream.WriteAsync(response, _stop.Token);
                await stream.WriteAsync(body, _stop.Token);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // The client gave up (a timeout test) or the server is stopping.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _serving;
        _stop.Dispose();
    }
}
