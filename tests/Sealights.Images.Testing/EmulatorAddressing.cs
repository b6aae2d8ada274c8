namespace Sealights.Images.Testing;

/// <summary>How the emulator in a function's container learns its invoke and Runtime API addresses.</summary>
public enum EmulatorAddressing
{
    /// <summary>
    /// The image's own entrypoint (<c>/lambda-entrypoint.sh</c>, which passes no flags) with
    /// <c>SL_EMULATOR_ADDRESS</c> and <c>SL_EMULATOR_RUNTIME_API_ADDRESS</c>: our emulator only.
    /// </summary>
    Environment,

    /// <summary>
    /// The emulator itself as the entrypoint, given both addresses as flags, then the bootstrap and
    /// the handler: what AWS's emulator needs (it reads no address from the environment), and our
    /// emulator takes the same command line. The image's entrypoint script does not run, so a
    /// coverage-ready image still gets its exec wrapper from its AWS_LAMBDA_EXEC_WRAPPER but does not
    /// chain a function's own wrapper.
    /// </summary>
    Flags,
}
