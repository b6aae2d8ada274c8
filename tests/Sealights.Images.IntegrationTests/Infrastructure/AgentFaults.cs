using Sealights.Images.Testing;

namespace Sealights.Images.IntegrationTests.Infrastructure;

/// <summary>
/// The agent faults a function must survive (its answers unchanged, one log line saying why
/// coverage is off), arranged on a sample image: shared by the amd64 and the arm64 tests.
/// </summary>
public static class AgentFaults
{
    public static TheoryData<string> All => ["binary missing", "token absent", "token malformed", "killed before the runtime starts"];

    /// <summary>
    /// Changes <paramref name="environment"/> (which holds a valid <c>SL_TOKEN</c>) for
    /// <paramref name="fault"/>; returns the image to run and the line the log must have.
    /// </summary>
    /// <param name="statusPolls">How many 10 ms polls the killer waits for the agent's "on" (more under QEMU).</param>
    public static async Task<(string Image, string ExpectedLog)> ArrangeAsync(string fault, string sampleImage, Dictionary<string, string> environment, int statusPolls = 500)
    {
        switch (fault)
        {
            case "binary missing":
                environment["SL_AGENT_BINARY"] = "/opt/sealights/bin/not-there";
                return (sampleImage, "is missing or not executable: the function runs without coverage");
            case "token absent":
                environment.Remove("SL_TOKEN");
                // The debug file alone would be local mode (enabled, no token).
                environment.Remove("SL_DEBUG_HITS_FILE");
                return (sampleImage, "inactive (no token: set SL_TOKEN or SL_TOKEN_FILE on the function)");
            case "token malformed":
                environment["SL_TOKEN"] = "not-a-jwt-" + environment["SL_TOKEN"][..12];
                return (sampleImage, "inactive (SL_TOKEN is not usable: the token is not a JWT");
            case "killed before the runtime starts":
                var image = await ImageBuilder.BuildAsync(sampleImage, [new ImageFile("/var/task/kill-after-register.sh", KillAfterRegister(statusPolls), Executable: true)]);
                environment["SL_AGENT_BINARY"] = "/var/task/kill-after-register.sh";
                return (image, "agent stopped (exit status 137): the function continues without coverage");
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, "not one of AgentFaults.All");
        }
    }

    // Kills the agent as soon as it has said it collects, about when Lambda starts the runtime.
    // (The agent's standard input, the launcher's pipe with the extension identifier, is passed on:
    // a background command's is otherwise /dev/null.)
    private static string KillAfterRegister(int statusPolls) => $$"""
        #!/bin/bash
        /opt/sealights/bin/sealights-lambda-agent "$@" <&0 &
        pid=$!
        for _ in $(seq 1 {{statusPolls}}); do [ "$(cat /tmp/.sealights-agent.status 2>/dev/null)" = on ] && break; sleep 0.01; done
        kill -9 "$pid"
        wait "$pid"
        """;
}
