namespace Sealights.Images.Testing.Tests;

public sealed class InitReportLineTests
{
    [Fact]
    public void AWS_emulator_s_rapid_line_gives_the_real_init_time()
    {
        var reports = InitReportLine.ParseAll(Fixture.Read(Fixture.AwsRie));

        Assert.Equal([new InitReportLine(209.871, null, null, null)], reports);
    }

    [Fact]
    public void Later_AWS_emulator_versions_name_status_phase_and_error_type_in_the_parentheses()
    {
        var report = InitReportLine.TryParse(
            "06 Dec 2026 17:31:12,611 [INFO] (rapid) INIT REPORT(initType: lambda-managed-instances, durationMs: 40.00, status: error, phase: init, errorType: Runtime.Unknown)");

        Assert.Equal(new InitReportLine(40.00, "init", "error", "Runtime.Unknown"), report);
    }

    [Fact]
    public void Lambda_s_INIT_REPORT_lines_give_phase_status_and_error_type()
    {
        var reports = InitReportLine.ParseAll(Fixture.Read(Fixture.Lambda));

        Assert.Equal(
            [new InitReportLine(9999.81, "init", "timeout", null), new InitReportLine(1236.04, "invoke", "error", "Runtime.ExitError")],
            reports);
    }

    [Fact]
    public void Our_emulator_s_INIT_REPORT_of_a_failed_init_reads_like_Lambda_s()
    {
        var reports = InitReportLine.ParseAll(Fixture.Read(Fixture.SealightsEmulator));

        Assert.Equal([new InitReportLine(212.07, "init", "error", "Runtime.ExitError")], reports);
    }

    [Theory]
    [InlineData("06 Dec 2026 17:31:12,401 [INFO] (rapid) INIT START(type: on-demand, phase: init)")]
    [InlineData("06 Dec 2026 17:31:12,611 [INFO] (rapid) INIT RTDONE(status: success)")]
    [InlineData("REPORT RequestId: x\tInit Duration: 1.00 ms\tDuration: 1.00 ms")]
    [InlineData("INIT_REPORT Phase: init")]
    public void Other_lines_are_not_init_reports(string line) => Assert.Null(InitReportLine.TryParse(line));
}
