using Sealights.Lambda.Agent.Lifecycle;

namespace Sealights.Lambda.Agent.Tests.Lifecycle;

public sealed class LauncherHandOverTests
{
    [Fact]
    public void The_identifier_is_the_first_line_the_launcher_wrote()
    {
        Assert.Equal("3d7c5b1e-ext", LauncherHandOver.ReadIdentifier(new StringReader(" 3d7c5b1e-ext \nignored\n")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("  \n")]
    public void A_launcher_that_closed_without_an_identifier_could_not_register(string written)
    {
        Assert.Null(LauncherHandOver.ReadIdentifier(new StringReader(written)));
    }

    [Theory]
    [InlineData("/tmp/.sealights-agent", "/tmp/.sealights-agent.status")]
    [InlineData("/tmp/.sealights-agent/", "/tmp/.sealights-agent.status")]
    public void The_status_file_sits_beside_the_state_folder_where_the_launcher_can_write_it(string stateDirectory, string expected)
    {
        Assert.Equal(expected, LauncherHandOver.StatusFile(stateDirectory));
    }

    [Fact]
    public void Collecting_is_announced_in_the_word_the_exec_wrapper_reads()
    {
        var state = Path.Combine(Directory.CreateTempSubdirectory("sl-handover-").FullName, "state");
        try
        {
            LauncherHandOver.AnnounceCollecting(state);

            Assert.Equal("on\n", File.ReadAllText(state + ".status"));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(state)!, recursive: true);
        }
    }
}
