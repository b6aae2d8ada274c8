using Sealights.Coverage.Tokens;
using Sealights.Images.Testing;
using Sealights.Lambda.Agent.Configuration;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;

/// <summary>
/// One test's delivery setting: a private temp folder (task root, spool, backend record), a
/// unique token, a readable log and a shiftable clock. On dispose it checks that the token never
/// reached the log, and removes the folder.
/// </summary>
public sealed class DeliveryScope : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    public DeliveryScope(ITestOutputHelper output, string? server = "http://127.0.0.1:9/api")
    {
        Output = output;
        Root = Path.Combine(Path.GetTempPath(), "sl-delivery-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
        TaskRoot = Path.Combine(Root, "task");
        Directory.CreateDirectory(TaskRoot);
        Log = new LineLog(output);
        UseServer(server);
    }

    public ITestOutputHelper Output { get; }

    public string Root { get; }

    public string TaskRoot { get; }

    public string SpoolDirectory => Path.Combine(Root, "spool");

    public LineLog Log { get; }

    public TestClock Clock { get; } = new();

    /// <summary>The raw token (only for the backend's --token and the log check).</summary>
    public string RawToken { get; private set; } = "";

    public SealightsToken Token { get; private set; } = null!;

    /// <summary>A fresh token naming <paramref name="server"/> as x-sl-server (null: a server nothing listens on, as with a collector).</summary>
    public void UseServer(string? server)
    {
        var claims = SealightsTokens.AgentClaims();
        // Every agent token names a server (a token without one is refused); port 9 is discard: nothing answers.
        claims["x-sl-server"] = server ?? "http://127.0.0.1:9/api";
        RawToken = SealightsTokens.Create(claims);
        Assert.True(SealightsToken.TryParse(RawToken, out var token, out var problem), problem);
        Token = token;
    }

    /// <summary>
    /// Starts the test backend on a free port. By default the token is renewed to name it as its
    /// x-sl-server (<c>{backend}/api</c>) and the backend accepts only that token.
    /// </summary>
    public Task<TestBackendProcess> StartBackendAsync(bool tokenNamesBackend = true, bool requireToken = true, string? execution = "execution-1")
    {
        var port = FreePorts.Next();
        if (tokenNamesBackend)
        {
            UseServer($"http://127.0.0.1:{port}/api");
        }
        return Own(TestBackendProcess.StartAsync(Root, port, requireToken ? RawToken : null, execution, Output.WriteLine));
    }

    /// <summary>
    /// Options through the real <see cref="DeliveryOptions.TryCreate"/>; tests get small retry
    /// delays and their own spool unless <paramref name="env"/> says otherwise.
    /// </summary>
    public DeliveryOptions Options(params (string Name, string Value)[] env)
    {
        var variables = new Dictionary<string, string>
        {
            ["SL_BUILD_SESSION_ID"] = "bsid-1",
            ["SL_SPOOL_DIR"] = SpoolDirectory,
            ["SL_RETRY_MIN_MS"] = "20",
            ["SL_RETRY_MAX_MS"] = "100",
            ["SL_REQUEST_TIMEOUT_MS"] = "2000",
        };
        foreach (var (name, value) in env)
        {
            variables[name] = value;
        }
        var options = DeliveryOptions.TryCreate(name => variables.GetValueOrDefault(name), TaskRoot, Token, Log.Add);
        Assert.True(options is not null, "options refused: " + Log.Text);
        return options;
    }

    public FootprintsDelivery Delivery(DeliveryOptions options)
    {
        var delivery = new FootprintsDelivery(options, Token, Log.Agent, Clock);
        _owned.Add(delivery);
        return delivery;
    }

    /// <summary>A delivery that announces itself (lifecycle calls, agent events) with these facts of a function.</summary>
    public FootprintsDelivery AnnouncedDelivery(DeliveryOptions options, LambdaFacts? facts = null)
    {
        var delivery = new FootprintsDelivery(options, Token, Log.Agent, Clock, announce: () => facts ?? LambdaFacts.Unknown);
        _owned.Add(delivery);
        return delivery;
    }

    private async Task<T> Own<T>(Task<T> starting) where T : IAsyncDisposable
    {
        var value = await starting;
        _owned.Add(value);
        return value;
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }
        Assert.DoesNotContain(RawToken, Log.Text, StringComparison.Ordinal);
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held; the temp folder is cleaned by the system.
        }
    }
}
