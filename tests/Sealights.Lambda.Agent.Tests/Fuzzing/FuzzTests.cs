using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Tests.Fuzzing;

/// <summary>
/// Runs each fuzz target for a bounded number of inputs (a few seconds each; Fuzzing/README.md
/// has the longer run). Deterministic: the same seed makes the same inputs, so a finding in CI
/// reproduces; each finding's input is also saved, and printed as hex.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Fuzz_nettrace_reader() => Run(new NetTraceTarget(), 8000);

    [Fact]
    public void Fuzz_harvest_datagram() => Run(new HarvestDatagramTarget(), 20_000);

    [Fact]
    public void Fuzz_http_reader_listener_side() => Run(new HttpRequestTarget(), 10_000);

    [Fact]
    public void Fuzz_telemetry_listener() => Run(new TelemetryListenerTarget(), 1000);

    [Fact]
    public void Fuzz_http_reader_extensions_api_client_side() => Run(new HttpResponseTarget(), 3000);

    [Fact]
    public void Fuzz_backend_and_lambda_json() => Run(new BackendJsonTarget(), 20_000);

    [Fact]
    public void Fuzz_sealights_json() => Run(new ConfigFileTarget(), 2000);

    [Fact]
    public void Fuzz_token_parser() => Run(new TokenTarget(), 20_000);

    private void Run(IFuzzTarget target, int inputs)
    {
        try
        {
            var report = FuzzRunner.Run(
                target,
                int.TryParse(Environment.GetEnvironmentVariable("SL_FUZZ_INPUTS"), out var requested) ? requested : inputs,
                int.TryParse(Environment.GetEnvironmentVariable("SL_FUZZ_SEED"), out var seed) ? seed : 22,
                Environment.GetEnvironmentVariable("SL_FUZZ_FINDINGS") ?? Path.Combine(AppContext.BaseDirectory, "fuzz-findings"));

            output.WriteLine(report.ToString());
            Assert.True(report.Findings.Count == 0, report.ToString());
        }
        finally
        {
            (target as IDisposable)?.Dispose();
        }
    }
}
