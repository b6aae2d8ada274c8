namespace Sealights.Images.Cli.Sealights;

/// <summary>A build session as the backend describes it (<c>GET /v2/agents/buildsession/{bsid}/</c>).</summary>
public sealed record BuildSession(string BuildSessionId, string AppName, string BranchName, string BuildName);
