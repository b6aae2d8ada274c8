namespace Amazon.Lambda.Core;

/// <summary>Turns invocation payloads into handler inputs and handler results into responses.</summary>
public interface ILambdaSerializer
{
    /// <summary>Reads the invocation payload as a <typeparamref name="T"/>.</summary>
    T Deserialize<T>(Stream requestStream);

    /// <summary>Writes the handler's result to the response stream.</summary>
    void Serialize<T>(T response, Stream responseStream);
}
