namespace Sealights.Images.Testing.Tests;

public sealed class ReportLineTests
{
    [Fact]
    public void Our_emulator_s_lines_carry_every_figure_and_the_failure_status()
    {
        var reports = ReportLine.ParseAll(Fixture.Read(Fixture.SealightsEmulator));

        Assert.Equal(4, reports.Count);
        Assert.Equal(
            new ReportLine("2f0c6a4e-8d51-4b8e-9f0e-6b1d2c3a4e5f", 187.42, 35.08, 224, 3008, 97, 41.30, null, null, ReportSource.SealightsEmulator),
            reports[0]);
        Assert.Equal(187.42, reports[0].MeasuredInitDurationMs);
        Assert.Null(reports[1].InitDurationMs);
        Assert.Equal(0.0, reports[1].PostRuntimeExtensionsDurationMs);
        Assert.Equal(("timeout", null), (reports[2].Status, reports[2].ErrorType));
        Assert.Equal(("error", "Runtime.ExitError"), (reports[3].Status, reports[3].ErrorType));
        Assert.All(reports, r => Assert.Equal(ReportSource.SealightsEmulator, r.Source));
    }

    [Fact]
    public void AWS_emulator_s_lines_parse_without_the_fields_it_lacks_and_its_init_is_a_placeholder()
    {
        var reports = ReportLine.ParseAll(Fixture.Read(Fixture.AwsRie));

        Assert.Equal(2, reports.Count);
        Assert.Equal(
            new ReportLine("8b3f5d2e-1c4a-4e6b-9d7f-2a0c4e6b8d1f", 0.11, 249.37, 250, 3008, 3008, null, null, null, ReportSource.AwsRuntimeInterfaceEmulator),
            reports[0]);
        Assert.Null(reports[0].MeasuredInitDurationMs);
        // A warm line reads the same as Lambda's.
        Assert.Equal(
            new ReportLine("e4f6a8b0-2c4e-4f6a-8b0c-4e6f8a0b2c4d", null, 2.51, 3, 3008, 3008, null, null, null, ReportSource.AwsRuntimeInterfaceEmulatorOrLambda),
            reports[1]);
    }

    [Fact]
    public void Lambda_s_lines_parse_with_init_after_memory_and_xray_fields()
    {
        var reports = ReportLine.ParseAll(Fixture.Read(Fixture.Lambda));

        Assert.Equal(4, reports.Count);
        Assert.Equal(
            new ReportLine("6f2d4b8a-0e1c-4a3b-9c5d-7e9f1a3b5c7d", null, 1236.04, 1237, 512, 88, null, "error", "Runtime.ExitError", ReportSource.Lambda),
            reports[0]);
        Assert.Equal(
            new ReportLine("c793869b-ee49-115b-a5b6-4fd21e8dedac", 211.49, 170.19, 171, 512, 73, null, null, null, ReportSource.Lambda),
            reports[1]);
        Assert.Equal(211.49, reports[1].MeasuredInitDurationMs);
        Assert.Equal(("timeout", ReportSource.Lambda), (reports[2].Status, reports[2].Source));
        Assert.Equal(ReportSource.AwsRuntimeInterfaceEmulatorOrLambda, reports[3].Source);
    }

    [Fact]
    public void A_line_without_a_required_figure_is_a_format_error()
    {
        var error = Assert.Throws<FormatException>(() => ReportLine.Parse("REPORT RequestId: x\tInit Duration: 1.00 ms\tMemory Size: 128 MB"));

        Assert.Contains("'Duration'", error.Message);
    }
}
