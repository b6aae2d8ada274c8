using Sealights.Lambda.Agent.Lifecycle;

namespace Sealights.Lambda.Agent.Tests.Lifecycle;

/// <summary>The reason the agent gives when the function's runtime never connected.</summary>
public sealed class UntracedRuntimeReasonTests
{
    [Theory]
    [InlineData("DOTNET_EnableDiagnostics")]
    [InlineData("DOTNET_EnableDiagnostics_IPC")]
    [InlineData("COMPlus_EnableDiagnostics")]
    public void A_function_that_turns_diagnostics_off_is_told_which_variable_does_it(string variable)
    {
        var reason = AgentHost.WhyNoConnection(name => name == variable ? " 0 " : null);

        Assert.Equal($"{variable}=0 is set on the function and turns the runtime's diagnostic port off; remove it to get coverage", reason);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("1")]
    public void Otherwise_the_likeliest_cause_is_a_runtime_started_without_the_exec_wrapper(string? value)
    {
        var reason = AgentHost.WhyNoConnection(name => name == "DOTNET_EnableDiagnostics" ? value : null);

        Assert.Equal("the runtime was not started through the image's ENTRYPOINT /lambda-entrypoint.sh, which connects it (through /opt/sealights/bin/exec-wrapper, or by itself for an instrumented function): keep that ENTRYPOINT", reason);
    }
}
