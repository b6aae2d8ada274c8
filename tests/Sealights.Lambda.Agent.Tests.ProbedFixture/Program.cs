using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace ProbedFixture;

/// <summary>
/// argv[0]: "register" makes the module register at start (the usual case: a probed method runs
/// during init) and waits for the EventSource, "idle" does not (the EventSource is created by the
/// first stdin scenario). Prints "ready", then runs one stdin line at a time ("a", "b", "c", "none", "bulk N", "register",
/// "end ID"), answering "done &lt;line&gt;", until "exit".
/// </summary>
public static class Program
{
    // The library's internal source, which the fixture inspects (it has no public view of it).
    private static readonly Type CoverageSource = typeof(Sealights.Coverage.Probes.ProbeRegistry).Assembly
        .GetType("Sealights.Coverage.Probes.CoverageEventSource", throwOnError: true)!;

    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "register" && Register())
        {
            WaitForSource();
        }

        Console.WriteLine("ready");
        string? line;
        while ((line = Console.ReadLine()) is not null && line != "exit")
        {
            Run(line);
            Console.WriteLine("done " + line);
        }

        return 0;
    }

    private static void Run(string scenario)
    {
        switch (scenario.Split(' '))
        {
            case ["a"]:
                PathA.Run();
                break;
            case ["b"]:
                PathB.Run();
                break;
            case ["c"]:
                PathC.Run();
                break;
            case ["none"]:
                break;
            case ["register"]:
                if (Register())
                {
                    WaitForSource();
                }

                break;
            case ["bulk", var count]:
                BulkProbes.HitAll(int.Parse(count, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case ["end", var requestId]:
                EndInvocation(requestId);
                break;
            default:
                Console.Error.WriteLine("unknown scenario " + scenario);
                break;
        }
    }

    /// <summary>
    /// Ends invocation <paramref name="requestId"/> as a runtime client does: its response, then the
    /// request for the next one, to AWS_LAMBDA_RUNTIME_API. The library's boundary sees each request
    /// start before it is sent; nothing needs to answer (the tests point the variable at a closed port).
    /// </summary>
    private static void EndInvocation(string requestId)
    {
        var api = "http://" + Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/";
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        foreach (var request in new[]
        {
            new HttpRequestMessage(HttpMethod.Post, api + Uri.EscapeDataString(requestId) + "/response") { Content = new StringContent("{}") },
            new HttpRequestMessage(HttpMethod.Get, api + "next"),
        })
        {
            try
            {
                client.Send(request).Dispose();
            }
            catch (HttpRequestException)
            {
                // Refused: the request has started all the same, which is what the boundary watches.
            }
        }
    }

    /// <summary>
    /// Until the flush's source is made (on a thread of its own) AND complete: a flush that reaches
    /// it while it is being made is left unanswered by design (its hits go with the next flush),
    /// which a loaded machine made happen to tests that meant to test something else. The source is
    /// listed by EventSource.GetSources while its constructor still runs, so the library's own
    /// instance field, set once it is complete, is what is waited for.
    /// </summary>
    private static void WaitForSource()
    {
        var instance = CoverageSource.GetField("_instance", BindingFlags.NonPublic | BindingFlags.Static)
            ?? throw new MissingFieldException("CoverageEventSource._instance (the fixture waits on it)");
        var waited = Stopwatch.StartNew();
        while (instance.GetValue(null) is null && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(1);
        }

        Console.WriteLine($"event source after {waited.Elapsed.TotalMilliseconds:0.0} ms");
    }

    /// <summary>
    /// Runs the anchor's static constructor (Register, and with it the EventSource's creation), prints
    /// what it cost and whether the source is being made; returns whether it is.
    /// </summary>
    private static bool Register()
    {
        // The index table's reflection is the hand-probing's own cost, not the pattern's: paid first.
        RuntimeHelpers.RunClassConstructor(typeof(Ix).TypeHandle);
        var clock = Stopwatch.StartNew();
        RuntimeHelpers.RunClassConstructor(typeof(_SealightsProbes_).TypeHandle);
        Console.WriteLine($"registered in {clock.Elapsed.TotalMilliseconds:0.000} ms");
        var notMade = CoverageSource.GetProperty("NotCreatedBecause", BindingFlags.NonPublic | BindingFlags.Static)
            ?? throw new MissingMemberException("CoverageEventSource.NotCreatedBecause (the fixture reports it)");
        var why = (string?)notMade.GetValue(null);
        Console.WriteLine(why is null ? "event source: being made" : $"event source: not made ({why})");
        return why is null;
    }
}
