using System.Text.RegularExpressions;
using Sealights.Lambda.Agent.Delivery.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sealights.Lambda.Agent.Delivery.Tests;

/// <summary>
/// Whole-number settings honour exactly the range their warning announces: both ends are
/// taken as they are, one past either end falls back to the default with the line, and only
/// plain digits count. The range comes from the agent's own line, so the test holds whatever
/// the limits are, as long as the line tells the customer the truth.
/// </summary>
public sealed partial class DeliverySettingRangeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DeliveryScope _scope = new(output, server: "https://acme.sealights.co/api");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    public static TheoryData<string> Settings =>
    [
        "SL_SPOOL_MAX_BYTES", "SL_SPOOL_MAX_FILES", "SL_REQUEST_TIMEOUT_MS", "SL_FLUSH_BUDGET_MS",
        "SL_FLUSH_INTERVAL_SECONDS", "SL_NO_EXECUTION_HOLD_SECONDS", "SL_RETRY_MIN_MS", "SL_RETRY_MAX_MS",
    ];

    private static long Value(DeliveryOptions options, string setting) => setting switch
    {
        "SL_SPOOL_MAX_BYTES" => options.SpoolMaxBytes,
        "SL_SPOOL_MAX_FILES" => options.SpoolMaxFiles,
        "SL_REQUEST_TIMEOUT_MS" => (long)options.RequestTimeout.TotalMilliseconds,
        "SL_FLUSH_BUDGET_MS" => (long)options.FlushBudget.TotalMilliseconds,
        "SL_FLUSH_INTERVAL_SECONDS" => (long)options.FlushInterval.TotalSeconds,
        "SL_NO_EXECUTION_HOLD_SECONDS" => (long)options.NoExecutionHold.TotalSeconds,
        "SL_RETRY_MIN_MS" => (long)options.RetryMinDelay.TotalMilliseconds,
        "SL_RETRY_MAX_MS" => (long)options.RetryMaxDelay.TotalMilliseconds,
        _ => throw new ArgumentOutOfRangeException(nameof(setting)),
    };

    private (DeliveryOptions Options, IReadOnlyList<string> Lines) Read(string setting, string text)
    {
        var env = new Dictionary<string, string> { ["SL_BUILD_SESSION_ID"] = "b", [setting] = text };
        // The retry pair is checked as a pair too: keep the other one out of the way.
        if (setting == "SL_RETRY_MIN_MS")
        {
            env["SL_RETRY_MAX_MS"] = "3600000";
        }
        else if (setting == "SL_RETRY_MAX_MS")
        {
            env["SL_RETRY_MIN_MS"] = "1";
        }

        var before = _scope.Log.Lines.Count;
        var options = DeliveryOptions.TryCreate(name => env.GetValueOrDefault(name), _scope.TaskRoot, _scope.Token, _scope.Log.Add);
        Assert.NotNull(options);
        return (options, _scope.Log.Lines.Skip(before).ToList());
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void A_whole_number_setting_takes_both_ends_of_its_announced_range_and_nothing_past_them(string setting)
    {
        var (fallbackOptions, lines) = Read(setting, "99999999999999999999");
        var announced = RangeLine().Match(Assert.Single(lines));
        Assert.True(announced.Success, lines[0]);
        Assert.Equal(setting, announced.Groups["name"].Value);
        var (min, max, fallback) = (long.Parse(announced.Groups["min"].Value), long.Parse(announced.Groups["max"].Value), long.Parse(announced.Groups["fallback"].Value));
        Assert.Equal(fallback, Value(fallbackOptions, setting));
        Assert.InRange(fallback, min, max);

        foreach (var end in new[] { min, max })
        {
            var (options, quiet) = Read(setting, end.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Empty(quiet);
            Assert.Equal(end, Value(options, setting));
        }

        foreach (var past in new[] { min - 1, max + 1 })
        {
            var text = past.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var (options, warned) = Read(setting, text);
            Assert.Equal($"footprints delivery: {setting}={text} is not a whole number from {min} to {max}; using {fallback}", Assert.Single(warned));
            Assert.Equal(fallback, Value(options, setting));
        }
    }

    [Theory]
    [InlineData("+100")]
    [InlineData("100.0")]
    [InlineData("1e3")]
    [InlineData("1,000")]
    [InlineData("0x10")]
    public void Only_plain_digits_are_a_whole_number(string text)
    {
        var (options, warned) = Read("SL_SPOOL_MAX_FILES", text);

        Assert.Single(warned);
        Assert.Equal(1000, options.SpoolMaxFiles);
    }

    [Fact]
    public void A_retry_cap_below_the_first_delay_becomes_the_first_delay_with_a_line()
    {
        var env = new Dictionary<string, string> { ["SL_BUILD_SESSION_ID"] = "b", ["SL_RETRY_MIN_MS"] = "500", ["SL_RETRY_MAX_MS"] = "499" };

        var options = DeliveryOptions.TryCreate(name => env.GetValueOrDefault(name), _scope.TaskRoot, _scope.Token, _scope.Log.Add)!;

        Assert.Equal((TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500)), (options.RetryMinDelay, options.RetryMaxDelay));
        Assert.Equal(["footprints delivery: SL_RETRY_MAX_MS (499) is below SL_RETRY_MIN_MS (500); using 500 for both"], _scope.Log.Lines);
    }

    [Fact]
    public void A_retry_cap_equal_to_the_first_delay_is_kept_quietly()
    {
        var env = new Dictionary<string, string> { ["SL_BUILD_SESSION_ID"] = "b", ["SL_RETRY_MIN_MS"] = "500", ["SL_RETRY_MAX_MS"] = "500" };

        var options = DeliveryOptions.TryCreate(name => env.GetValueOrDefault(name), _scope.TaskRoot, _scope.Token, _scope.Log.Add)!;

        Assert.Equal(TimeSpan.FromMilliseconds(500), options.RetryMaxDelay);
        Assert.Empty(_scope.Log.Lines);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("yes", true)]
    [InlineData("1", true)]
    [InlineData("false", false)]
    [InlineData("No", false)]
    [InlineData("0", false)]
    public void SL_TELEMETRY_API_reads_the_boolean_words(string text, bool expected)
    {
        var env = new Dictionary<string, string> { ["SL_BUILD_SESSION_ID"] = "b", ["SL_TELEMETRY_API"] = text };

        var options = DeliveryOptions.TryCreate(name => env.GetValueOrDefault(name), _scope.TaskRoot, _scope.Token, _scope.Log.Add)!;

        Assert.Equal(expected, options.UseTelemetryApi);
        Assert.Empty(_scope.Log.Lines);
    }

    [Fact]
    public void SL_TELEMETRY_API_with_another_word_stays_on_with_a_line()
    {
        var env = new Dictionary<string, string> { ["SL_BUILD_SESSION_ID"] = "b", ["SL_TELEMETRY_API"] = "off" };

        var options = DeliveryOptions.TryCreate(name => env.GetValueOrDefault(name), _scope.TaskRoot, _scope.Token, _scope.Log.Add)!;

        Assert.True(options.UseTelemetryApi);
        Assert.Equal(["footprints delivery: SL_TELEMETRY_API=off is not true or false; using true"], _scope.Log.Lines);
    }

    [GeneratedRegex(@"^footprints delivery: (?<name>SL_[A-Z_]+)=\S+ is not a whole number from (?<min>\d+) to (?<max>\d+); using (?<fallback>\d+)$")]
    private static partial Regex RangeLine();
}
