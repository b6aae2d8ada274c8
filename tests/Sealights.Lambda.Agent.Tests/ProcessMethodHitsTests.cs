using Sealights.Lambda.Agent.MethodHits;
using Sealights.Lambda.Agent.Tests.Infrastructure;

namespace Sealights.Lambda.Agent.Tests;

/// <summary>
/// How one process's events become hits, fed with the fixture's real tokens in the orders the
/// runtime produces them (rundown lists a module after its methods; tier-1 and OSR repeat).
/// </summary>
public sealed class ProcessMethodHitsTests
{
    private const long AppModule = 0x7000;
    private const long FrameworkModule = 0x8000;
    private static readonly DateTimeOffset SessionStart = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly string _assembly = FixtureBuilds.JitAssembly;
    private readonly ProcessMethodHits _hits;

    public ProcessMethodHitsTests()
    {
        _hits = new ProcessMethodHits(new ApplicationModules(Path.GetDirectoryName(_assembly)!, _ => { }));
    }

    [Fact]
    public void MethodsListedBeforeTheirModuleIsNamed_ResolveOnceItIs()
    {
        var main = Token("Fixture.Program", "Main");
        _hits.OnMethodListed(AppModule, main, SessionStart);
        Assert.Empty(_hits.Drain());

        _hits.OnModule(AppModule, _assembly);
        var hit = Assert.Single(_hits.Drain());
        Assert.Equal(ExpectedMethods.Id("Fixture.Program|Main(System.String[])"), hit.Method.Id);
        Assert.Equal(SessionStart, hit.FirstSeen);
    }

    [Fact]
    public void ALiveTimestampBeatsTheRundownStandIn_AndTheEarliestLiveOneWins()
    {
        _hits.OnModule(AppModule, _assembly);
        var step = Token("Fixture.LateWork", "Step");
        _hits.OnMethodCalled(AppModule, step, SessionStart.AddSeconds(3));
        _hits.OnMethodListed(AppModule, step, SessionStart);
        _hits.OnMethodCalled(AppModule, step, SessionStart.AddSeconds(2));

        Assert.Equal(SessionStart.AddSeconds(2), Assert.Single(_hits.Drain()).FirstSeen);
    }

    [Fact]
    public void EachMethodIsReportedOncePerProcess()
    {
        _hits.OnModule(AppModule, _assembly);
        var run = Token("Fixture.LateWork", "Run");
        _hits.OnMethodCalled(AppModule, run, SessionStart.AddSeconds(1));
        Assert.Single(_hits.Drain());

        // Tier-1 rejit, OSR, the next session's overlap, rundown: all the same method.
        _hits.OnMethodCalled(AppModule, run, SessionStart.AddSeconds(5));
        _hits.OnMethodListed(AppModule, run, SessionStart.AddSeconds(6));
        Assert.Empty(_hits.Drain());
    }

    [Fact]
    public void AStateMachineAndItsKickoffMethodAreOneHit_AtTheEarlierTime()
    {
        _hits.OnModule(AppModule, _assembly);
        int[] tokens = [Token("Fixture.Asynchronous", "ComputeAsync"), FixtureMetadata.StateMachineMoveNext(_assembly, "Fixture.Asynchronous", "ComputeAsync")];
        for (var i = 0; i < tokens.Length; i++)
        {
            _hits.OnMethodCalled(AppModule, tokens[i], SessionStart.AddMilliseconds(10 - i));
        }

        var hit = Assert.Single(_hits.Drain());
        Assert.Equal(ExpectedMethods.Id("Fixture.Asynchronous|ComputeAsync(System.Int32)"), hit.Method.Id);
        Assert.Equal(SessionStart.AddMilliseconds(10 - tokens.Length + 1), hit.FirstSeen);
    }

    [Fact]
    public void ModulesOutsideTheTaskRootAndUnmappedTokensAreIgnored()
    {
        _hits.OnModule(AppModule, _assembly);
        _hits.OnModule(FrameworkModule, "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/System.Private.CoreLib.dll");
        _hits.OnMethodCalled(FrameworkModule, Token("Fixture.LateWork", "Run"), SessionStart);
        // A compiler-generated method with no source (the fixture's Shape..ctor has none) and a token past the table.
        _hits.OnMethodCalled(AppModule, 0x06FFFFFF, SessionStart);

        Assert.Empty(_hits.Drain());
    }

    /// <summary>A method's token from the fixture's metadata tables, not from the catalog under test.</summary>
    private int Token(string type, string method) => FixtureMetadata.Token(_assembly, type, method);
}
