using Sealights.Images.Testing;

namespace Sealights.Images.IntegrationTests;

/// <summary>
/// External extensions written as bash + curl scripts that speak the real Extensions API and
/// record what they receive under /ext-out (a host folder mounted into the container).
/// </summary>
public static class TestExtensions
{
    public const string OutputDirectory = "/ext-out";

    private const string Register = """
        api="http://${AWS_LAMBDA_RUNTIME_API}/2020-01-01/extension"
        out=/ext-out/$(basename "$0").log
        # Lambda requires the registered name to be the extension's file name.
        id=$(curl -sS -D - -o /dev/null -X POST "$api/register" \
          -H "Lambda-Extension-Name: $(basename "$0")" -d "{\"events\":[$EVENTS]}" \
          | tr -d '\r' | awk -F': ' 'tolower($1)=="lambda-extension-identifier" {print $2}')
        echo "registered $id" >> "$out"
        """;

    /// <summary>Records every event (one JSON per line, prefixed "event ") until SHUTDOWN.</summary>
    public static ImageFile Recorder(string name, int sleepBeforeNextMs = 0) => new(
        $"/opt/extensions/{name}",
        $$"""
        #!/bin/bash
        set -euo pipefail
        EVENTS='"INVOKE","SHUTDOWN"'
        {{Register}}
        while true; do
          event=$(curl -sS "$api/event/next" -H "Lambda-Extension-Identifier: $id")
          echo "event $(date +%s%3N) $event" >> "$out"
          case "$event" in *'"SHUTDOWN"'*) echo "exiting after shutdown" >> "$out"; exit 0 ;; esac
          if [ {{sleepBeforeNextMs}} -gt 0 ]; then sleep {{sleepBeforeNextMs / 1000.0:0.###}}; fi
        done
        """,
        Executable: true);

    /// <summary>Registers, then exits: an extension crash before init completes.</summary>
    public static ImageFile ExitsAfterRegister(string name) => new(
        $"/opt/extensions/{name}",
        $$"""
        #!/bin/bash
        set -euo pipefail
        EVENTS='"INVOKE"'
        {{Register}}
        echo "exiting early" >> "$out"
        exit 0
        """,
        Executable: true);

    public static string[] ReadLog(string hostDirectory, string name)
    {
        var path = Path.Combine(hostDirectory, name + ".log");
        return File.Exists(path) ? File.ReadAllLines(path) : [];
    }
}
