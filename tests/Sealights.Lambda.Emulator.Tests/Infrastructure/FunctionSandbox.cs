using System.Globalization;
using System.Text;

namespace Sealights.Lambda.Emulator.Tests.Infrastructure;

/// <summary>
/// A temp folder with a function's bash scripts: a runtime, an extensions directory, an output
/// folder the scripts log to ("&lt;epoch ms&gt; &lt;text&gt;" lines) and lib.sh, the helpers
/// they share, which speak the Runtime and Extensions APIs with curl.
/// </summary>
public sealed class FunctionSandbox : IDisposable
{
    private const string Library = """
        RT="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
        EXT="http://${AWS_LAMBDA_RUNTIME_API}/2020-01-01/extension"
        TEL="http://${AWS_LAMBDA_RUNTIME_API}/2022-07-01/telemetry"
        now_ms() { date +%s%3N; }
        log() { echo "$(now_ms) $*" >> "$OUT/$NAME.log"; }
        tmp() { mktemp -p "$OUT/tmp"; }
        header() { grep -i "^$2:" "$1" | head -n1 | cut -d' ' -f2- | tr -d '\r\n'; }
        # Runtime API: rt_next sets ID, BODY and HDR (a file with the response headers).
        rt_next() { HDR=$(tmp); BODY=$(curl -sS -D "$HDR" "$RT/invocation/next"); ID=$(header "$HDR" Lambda-Runtime-Aws-Request-Id); }
        rt_respond() { curl -sS -o /dev/null -X POST "$RT/invocation/$ID/response" --data-binary "$1"; }
        rt_error() { curl -sS -o /dev/null -X POST "$RT/invocation/$ID/error" -H "Lambda-Runtime-Function-Error-Type: $1" --data-binary "$2"; }
        echo_loop() { while true; do rt_next; rt_respond "$BODY"; done; }
        # The same with next in the background, so a SIGTERM trap runs while it waits (bash runs
        # traps only between commands, and `wait` is interruptible).
        echo_loop_trappable() {
          while true; do
            curl -sS -D "$OUT/tmp/next-headers" -o "$OUT/tmp/next-body" "$RT/invocation/next" & wait $!
            ID=$(header "$OUT/tmp/next-headers" Lambda-Runtime-Aws-Request-Id)
            rt_respond "$(cat "$OUT/tmp/next-body")"
          done
        }
        # call METHOD URL [curl args...] prints "<status> <body>".
        call() { local b; b=$(tmp); local s; s=$(curl -sS -o "$b" -w '%{http_code}' -X "$1" "$2" "${@:3}"); echo "$s $(cat "$b")"; }
        # Extensions API: ext_register NAME EVENTS_JSON [curl args...] sets REG_STATUS, REG_BODY, EID.
        ext_register() {
          local h; h=$(tmp); local b; b=$(tmp)
          REG_STATUS=$(curl -sS -o "$b" -w '%{http_code}' -D "$h" -X POST "$EXT/register" -H "Lambda-Extension-Name: $1" -d "{\"events\":$2}" "${@:3}")
          EID=$(header "$h" Lambda-Extension-Identifier); REG_BODY=$(cat "$b")
        }
        ext_next() { EVENT=$(curl -sS "$EXT/event/next" -H "Lambda-Extension-Identifier: $EID"); }
        """;

    public FunctionSandbox()
    {
        Root = Directory.CreateTempSubdirectory("rie-test-").FullName;
        ExtensionsDirectory = Path.Combine(Root, "extensions");
        OutputDirectory = Path.Combine(Root, "out");
        Directory.CreateDirectory(ExtensionsDirectory);
        Directory.CreateDirectory(Path.Combine(OutputDirectory, "tmp"));
        LibraryPath = Path.Combine(Root, "lib.sh");
        File.WriteAllText(LibraryPath, Library.ReplaceLineEndings("\n") + "\n");
    }

    public string Root { get; }

    public string ExtensionsDirectory { get; }

    public string OutputDirectory { get; }

    private string LibraryPath { get; }

    /// <summary>Writes an executable bash runtime; <paramref name="body"/> runs after lib.sh is sourced.</summary>
    public string AddRuntime(string body, string name = "runtime") => WriteScript(Path.Combine(Root, name), name, body);

    /// <summary>Writes an executable bash extension into the extensions directory.</summary>
    public string AddExtension(string name, string body) => WriteScript(Path.Combine(ExtensionsDirectory, name), name, body);

    /// <summary>The lines a script logged with <c>log</c>, as (epoch ms, text).</summary>
    public IReadOnlyList<(long Ms, string Text)> ReadLog(string name)
    {
        var path = Path.Combine(OutputDirectory, name + ".log");
        if (!File.Exists(path))
        {
            return [];
        }
        return File.ReadAllLines(path)
            .Where(l => l.Length > 0)
            .Select(l =>
            {
                var space = l.IndexOf(' ');
                return (long.Parse(l[..space], CultureInfo.InvariantCulture), l[(space + 1)..]);
            })
            .ToList();
    }

    public IReadOnlyList<string> LogTexts(string name) => ReadLog(name).Select(e => e.Text).ToList();

    public string ReadOutput(string fileName) => File.ReadAllText(Path.Combine(OutputDirectory, fileName));

    public string OutputPath(string fileName) => Path.Combine(OutputDirectory, fileName);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string WriteScript(string path, string name, string body)
    {
        var script = new StringBuilder()
            .Append("#!/bin/bash\n")
            .Append("NAME='").Append(name).Append("'\n")
            .Append("OUT='").Append(OutputDirectory).Append("'\n")
            .Append("source '").Append(LibraryPath).Append("'\n")
            .Append(body.ReplaceLineEndings("\n"))
            .Append('\n');
        File.WriteAllText(path, script.ToString());
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        return path;
    }
}
