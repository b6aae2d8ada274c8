namespace Fixture;

/// <summary>Entry point: argv[0] is the scenario run at start; stdin lines are further scenarios.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        Run(args.Length > 0 ? args[0] : Scenarios.Idle);
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
        switch (scenario)
        {
            case Scenarios.All:
                Features.RunAll();
                break;
            case Scenarios.Late:
                LateWork.Run();
                break;
            case Scenarios.Idle:
                break;
            default:
                Console.Error.WriteLine("unknown scenario " + scenario);
                break;
        }
    }
}

/// <summary>Scenario names shared by argv and stdin.</summary>
public static class Scenarios
{
    public const string All = "all";
    public const string Late = "late";
    public const string Idle = "idle";
}
