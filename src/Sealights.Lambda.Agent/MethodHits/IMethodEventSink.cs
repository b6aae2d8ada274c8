namespace Sealights.Lambda.Agent.MethodHits;

/// <summary>What the event reader extracts from a runtime's stream, as plain values.</summary>
internal interface IMethodEventSink
{
    /// <summary>A module's IL file (ModuleLoad live, ModuleDCStop in rundown).</summary>
    void OnModule(long moduleId, string ilPath);

    /// <summary>A method's first call, seen live: jitting started or its ReadyToRun code was entered.</summary>
    void OnMethodCalled(long moduleId, int methodToken, DateTimeOffset timestamp);

    /// <summary>A method listed by rundown: it was called at some point before <paramref name="sessionStart"/> or during the session.</summary>
    void OnMethodListed(long moduleId, int methodToken, DateTimeOffset sessionStart);
}
