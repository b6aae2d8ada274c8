namespace Sealights.Images.Testing.Tests;

public sealed class ColdStartInitTests
{
    [Fact]
    public void Under_our_emulator_the_REPORT_line_s_init_is_taken() =>
        Assert.Equal(187.42, ColdStartInit.Milliseconds(Fixture.Read(Fixture.SealightsEmulator)));

    [Fact]
    public void Under_AWS_s_emulator_the_INIT_REPORT_replaces_the_placeholder() =>
        Assert.Equal(209.871, ColdStartInit.Milliseconds(Fixture.Read(Fixture.AwsRie)));

    [Fact]
    public void Without_an_init_on_the_REPORT_line_a_successful_INIT_REPORT_is_taken_and_a_failed_one_is_not()
    {
        const string Report = "REPORT RequestId: r\tDuration: 2.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\t\n";

        Assert.Equal(123.40, ColdStartInit.Milliseconds("INIT_REPORT Init Duration: 98.70 ms\tPhase: init\tStatus: error\n"
            + "INIT_REPORT Init Duration: 123.40 ms\tPhase: invoke\tStatus: success\n" + Report));
        Assert.Null(ColdStartInit.Milliseconds("INIT_REPORT Init Duration: 98.70 ms\tPhase: init\tStatus: timeout\n" + Report));
    }
}
