namespace Amazon.Lambda.Core;

/// <summary>The context a mobile SDK caller sends with an invocation.</summary>
public interface IClientContext
{
    /// <summary>Environment values the client reported.</summary>
    IDictionary<string, string> Environment { get; }

    /// <summary>The client application.</summary>
    IClientApplication Client { get; }

    /// <summary>Custom values the client set.</summary>
    IDictionary<string, string> Custom { get; }
}
