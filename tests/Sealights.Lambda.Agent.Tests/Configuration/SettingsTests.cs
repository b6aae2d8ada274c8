using System.Text;
using Sealights.Lambda.Agent.Configuration;

namespace Sealights.Lambda.Agent.Tests.Configuration;

/// <summary>
/// The words the agent's settings accept, and its log's filter: the same words the launcher
/// (layer/extensions/sealights-agent) accepts before it starts the agent, so the two agree.
/// </summary>
public sealed class SettingsTests
{
    [Theory]
    [InlineData("true")]
    [InlineData("TRUE")]
    [InlineData("True")]
    [InlineData(" yes ")]
    [InlineData("Yes")]
    [InlineData("1")]
    public void The_true_words_read_as_true(string text)
    {
        Assert.True(BooleanSetting.TryParse(text, out var value));
        Assert.True(value);
    }

    [Theory]
    [InlineData("false")]
    [InlineData("FALSE")]
    [InlineData(" no ")]
    [InlineData("No")]
    [InlineData("0")]
    public void The_false_words_read_as_false(string text)
    {
        Assert.True(BooleanSetting.TryParse(text, out var value));
        Assert.False(value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("on")]
    [InlineData("off")]
    [InlineData("2")]
    [InlineData("truee")]
    [InlineData("y")]
    public void Other_words_are_not_a_boolean(string text)
    {
        Assert.False(BooleanSetting.TryParse(text, out var value));
        Assert.False(value);
    }

    [Theory]
    [InlineData("true")]
    [InlineData(" TRUE ")]
    [InlineData("1")]
    [InlineData("yes")]
    public void SL_ENABLED_true_with_a_valid_token_enables_the_agent(string enabled)
    {
        var options = Read(("SL_TOKEN", ValidToken), ("SL_ENABLED", enabled));

        Assert.True(options.Enabled);
        Assert.Null(options.DisabledReason);
        Assert.NotNull(options.Token);
    }

    [Theory]
    [InlineData("0", "SL_ENABLED=0")]
    [InlineData(" no ", "SL_ENABLED=no")]
    [InlineData("maybe", "SL_ENABLED=maybe")]
    public void SL_ENABLED_anything_but_a_true_word_disables_it_with_the_launchers_words(string enabled, string reason)
    {
        var options = Read(("SL_TOKEN", ValidToken), ("SL_ENABLED", enabled));

        Assert.False(options.Enabled);
        Assert.Null(options.Token);
        Assert.Equal(reason, options.DisabledReason);
    }

    [Fact]
    public void A_blank_SL_ENABLED_is_unset()
    {
        Assert.True(Read(("SL_TOKEN", ValidToken), ("SL_ENABLED", "  ")).Enabled);
    }

    [Fact]
    public void SL_ENABLED_false_without_a_token_names_SL_ENABLED_not_the_token()
    {
        Assert.Equal("SL_ENABLED=false", Read(("SL_ENABLED", "false")).DisabledReason);
    }

    [Fact]
    public void SL_TOKEN_wins_over_SL_TOKEN_FILE()
    {
        var options = Read(("SL_TOKEN", ValidToken), ("SL_TOKEN_FILE", "/nonexistent/sl-token"));

        Assert.True(options.Enabled);
    }

    [Fact]
    public void A_blank_SL_TOKEN_is_unset()
    {
        var options = Read(("SL_TOKEN", " \t"));

        Assert.False(options.Enabled);
        Assert.Equal("no token: set SL_TOKEN or SL_TOKEN_FILE on the function", options.DisabledReason);
    }

    [Fact]
    public void Paths_default_when_unset_or_blank()
    {
        foreach (var options in new[] { Read(), Read(("SL_AGENT_STATE_DIR", " "), ("SL_TASK_ROOT", ""), ("SL_DEBUG_HITS_FILE", " ")) })
        {
            Assert.Equal("/tmp/.sealights-agent", options.StateDirectory);
            Assert.Equal("/var/task", options.TaskRoot);
            Assert.Null(options.HitsDumpFile);
            Assert.Equal(AgentLogLevel.Info, options.LogLevel);
        }
    }

    [Fact]
    public void Paths_and_level_are_read_trimmed_even_when_the_agent_is_disabled()
    {
        var options = Read(("SL_AGENT_STATE_DIR", " /tmp/state "), ("SL_TASK_ROOT", "/opt/task"), ("SL_DEBUG_HITS_FILE", "/tmp/hits.jsonl"), ("SL_LOG_LEVEL", "debug"), ("SL_ENABLED", "false"));

        Assert.False(options.Enabled);
        Assert.Equal("/tmp/state", options.StateDirectory);
        Assert.Equal("/opt/task", options.TaskRoot);
        Assert.Equal("/tmp/hits.jsonl", options.HitsDumpFile);
        Assert.Equal(AgentLogLevel.Debug, options.LogLevel);
    }

    [Theory]
    [InlineData(null, AgentLogLevel.Info)]
    [InlineData("", AgentLogLevel.Info)]
    [InlineData("info", AgentLogLevel.Info)]
    [InlineData("verbose", AgentLogLevel.Info)]
    [InlineData("debug", AgentLogLevel.Debug)]
    [InlineData("trace", AgentLogLevel.Debug)]
    [InlineData(" DEBUG ", AgentLogLevel.Debug)]
    [InlineData("warn", AgentLogLevel.Warn)]
    [InlineData("Warning", AgentLogLevel.Warn)]
    [InlineData("error", AgentLogLevel.Error)]
    [InlineData(" ERROR", AgentLogLevel.Error)]
    public void Log_levels_are_read_case_insensitively_and_default_to_info(string? text, AgentLogLevel level)
    {
        Assert.Equal(level, AgentLog.ParseLevel(text));
    }

    [Theory]
    [InlineData(AgentLogLevel.Debug, "DEBUG d|INFO i|WARN w|ERROR e")]
    [InlineData(AgentLogLevel.Info, "INFO i|WARN w|ERROR e")]
    [InlineData(AgentLogLevel.Warn, "WARN w|ERROR e")]
    [InlineData(AgentLogLevel.Error, "ERROR e")]
    public void The_log_writes_the_lines_at_or_above_its_level_with_the_prefix_and_level_word(AgentLogLevel minimum, string expected)
    {
        var writer = new StringWriter();
        var log = new AgentLog(minimum, writer);

        log.Debug("d");
        log.Info("i");
        log.Warn("w");
        log.Error("e");

        Assert.Equal(minimum, log.Minimum);
        Assert.Equal(
            expected.Split('|').Select(line => "[sealights-agent] " + line),
            writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Each_line_is_flushed_as_it_is_written()
    {
        var sink = new MemoryStream();
        var writer = new StreamWriter(sink) { AutoFlush = false };
        new AgentLog(AgentLogLevel.Info, writer).Info("seen at once");

        Assert.Equal("[sealights-agent] INFO seen at once" + Environment.NewLine, Encoding.UTF8.GetString(sink.ToArray()));
    }

    [Fact]
    public void Without_a_writer_the_log_goes_to_stderr()
    {
        var original = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            new AgentLog(AgentLogLevel.Info).Warn("to stderr " + Environment.ProcessId);
        }
        finally
        {
            Console.SetError(original);
        }

        // Contains: other tests running meanwhile may write to stderr too.
        Assert.Contains("[sealights-agent] WARN to stderr " + Environment.ProcessId, captured.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_closed_log_pipe_does_not_throw()
    {
        var log = new AgentLog(AgentLogLevel.Info, new BrokenWriter());

        log.Error("lost");
        log.Info("lost too");
    }

    private const string ValidClaims = """{"x-sl-server":"https://x/api","subject":"x@y","x-sl-role":"agent"}""";

    private static readonly string ValidToken =
        $"{B64("{\"alg\":\"HS256\"}")}.{B64(ValidClaims)}.c2lnbmF0dXJl";

    private static string B64(string text) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static AgentOptions Read(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value);
        return AgentOptions.FromEnvironment(name => map.GetValueOrDefault(name));
    }

    private sealed class BrokenWriter : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;

        public override void WriteLine(string? value) => throw new IOException("EPIPE");
    }
}
