using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Sealights.Lambda.Emulator.Api;

namespace Sealights.Lambda.Emulator.Hosting;

/// <summary>
/// A minimal Kestrel host on one address. Configuration comes only from our flags and env: no
/// appsettings.json (the cwd is the function's /var/task, whose appsettings are the function's),
/// no ASPNETCORE_URLS, no host-managed SIGTERM (the environment drives its own shutdown).
/// </summary>
internal static class ApiHost
{
    private static readonly TimeSpan SandboxClientPatience = TimeSpan.FromDays(1);

    /// <param name="sandboxFacing">
    /// The Runtime API's clients get frozen: no keep-alive or data-rate timers may run out
    /// while they are stopped (Lambda's own server has none either).
    /// </param>
    public static WebApplication Build(EndpointAddress address, bool sandboxFacing, Action<WebApplication> mapEndpoints)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, ManualLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Bodies are bounded per endpoint (6 MiB payloads), so an oversize response becomes
            // Lambda's 413 rather than a dropped connection.
            kestrel.Limits.MaxRequestBodySize = null;
            if (sandboxFacing)
            {
                // Not InfiniteTimeSpan: Kestrel takes its -1 ms literally, and its next heartbeat
                // (each second) hangs up on any connection still waiting for a request, so a
                // client descheduled between connect and request got an empty reply (in CI, a
                // runtime's response POST: the invoke hung). A day outlasts any freeze emulated.
                kestrel.Limits.KeepAliveTimeout = SandboxClientPatience;
                kestrel.Limits.RequestHeadersTimeout = SandboxClientPatience;
                kestrel.Limits.MinRequestBodyDataRate = null;
                kestrel.Limits.MinResponseDataRate = null;
            }
            kestrel.Listen(address.Address, address.Port, listen => listen.Protocols = HttpProtocols.Http1);
        });
        var app = builder.Build();
        mapEndpoints(app);
        app.MapFallback(ApiResponses.NotFoundAsync);
        return app;
    }

    /// <summary>The port actually bound (the address may ask for port 0).</summary>
    public static int BoundPort(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        foreach (var address in addresses)
        {
            if (Uri.TryCreate(address, UriKind.Absolute, out var uri))
            {
                return uri.Port;
            }
        }
        throw new InvalidOperationException("The server reported no bound address");
    }

    /// <summary>Start and stop are ours: no Ctrl+C/SIGTERM handling by the host.</summary>
    private sealed class ManualLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
