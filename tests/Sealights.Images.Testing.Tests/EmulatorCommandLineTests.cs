namespace Sealights.Images.Testing.Tests;

public sealed class EmulatorCommandLineTests
{
    [Fact]
    public void Flags_come_before_the_bootstrap_and_the_handler_is_last()
    {
        var arguments = EmulatorCommandLine.Arguments("127.0.0.1:9100", "127.0.0.1:9101", ["Fn::Fn.Function::Handle"]);

        Assert.Equal(
            ["--runtime-interface-emulator-address", "127.0.0.1:9100", "--runtime-api-address", "127.0.0.1:9101", "/var/runtime/bootstrap", "Fn::Fn.Function::Handle"],
            arguments);
    }

    [Fact]
    public void An_image_without_a_handler_is_refused() =>
        Assert.Throws<ArgumentException>(() => EmulatorCommandLine.Arguments("127.0.0.1:1", "127.0.0.1:2", []));
}
