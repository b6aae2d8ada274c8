namespace Sealights.Images.Testing;

/// <summary>
/// The command line that starts a Lambda emulator with its addresses as flags, the same for AWS's
/// emulator and ours: flags first, then the bootstrap, the handler last (both take the last
/// argument after the bootstrap as the handler). Paths are those of AWS's .NET base image.
/// </summary>
public static class EmulatorCommandLine
{
    public const string EmulatorPath = "/usr/local/bin/aws-lambda-rie";
    public const string BootstrapPath = "/var/runtime/bootstrap";

    /// <summary>The arguments after the image name when <see cref="EmulatorPath"/> is the entrypoint.</summary>
    public static IReadOnlyList<string> Arguments(string invokeAddress, string runtimeApiAddress, IReadOnlyList<string> handlerCommand)
    {
        if (handlerCommand.Count == 0)
        {
            throw new ArgumentException("the image has no CMD (the handler) and none was given", nameof(handlerCommand));
        }
        return
        [
            "--runtime-interface-emulator-address", invokeAddress,
            "--runtime-api-address", runtimeApiAddress,
            BootstrapPath,
            .. handlerCommand,
        ];
    }
}
