using System.Text;
using Amazon.Lambda.Core;

namespace Contract.Functions;

public sealed record Person(string Name);

public sealed record Greeting(string Text);

/// <summary>What the handler saw of its <see cref="ILambdaContext"/>.</summary>
public sealed record ContextView(
    string AwsRequestId,
    string FunctionName,
    string FunctionVersion,
    string InvokedFunctionArn,
    int MemoryLimitInMB,
    double RemainingTimeMs,
    string LogGroupName,
    string LogStreamName,
    bool HasClientContext,
    bool HasIdentity);

/// <summary>One handler per shape; the handler string is Sealights.Lambda.Contract.Functions::Contract.Functions.Handlers::NAME.</summary>
public sealed class Handlers
{
    // () returning void: the response is empty.
    public void NoInputVoid() => Console.WriteLine("NoInputVoid ran");

    // () returning Task.
    public async Task NoInputTask() => await Task.Delay(1);

    // (Stream) returning Stream: raw bytes, no serializer.
    public Stream StreamEcho(Stream input)
    {
        using var reader = new StreamReader(input);
        return new MemoryStream(Encoding.UTF8.GetBytes("stream:" + reader.ReadToEnd()));
    }

    // (Stream, ILambdaContext) returning Task<Stream>.
    public async Task<Stream> StreamWithContextAsync(Stream input, ILambdaContext context)
    {
        await Task.Yield();
        using var reader = new StreamReader(input);
        return new MemoryStream(Encoding.UTF8.GetBytes($"{context.AwsRequestId}:{reader.ReadToEnd()}"));
    }

    // (T) returning T, through the assembly's serializer.
    public Greeting Typed(Person person) => new($"hello {person.Name}");

    // (T, ILambdaContext) returning Task<T>; logs through the context's logger.
    public async Task<Greeting> TypedWithContextAsync(Person person, ILambdaContext context)
    {
        await Task.Yield();
        context.Logger.LogLine($"greeting {person.Name}");
        context.Logger.LogWarning("a warning line");
        return new Greeting($"hello {person.Name} from {context.FunctionName}");
    }

    // (ILambdaContext) returning T: every value the context carries.
    public ContextView ContextOnly(ILambdaContext context) => new(
        context.AwsRequestId,
        context.FunctionName,
        context.FunctionVersion,
        context.InvokedFunctionArn,
        context.MemoryLimitInMB,
        context.RemainingTime.TotalMilliseconds,
        context.LogGroupName,
        context.LogStreamName,
        context.ClientContext is not null,
        context.Identity is not null);

    // Static handler returning a string through the serializer (a JSON string).
    public static string StaticString() => "static";

    // The method's own serializer wins over the assembly's.
    [LambdaSerializer(typeof(ShoutingSerializer))]
    public Greeting MethodSerializer(Person person) => new($"hello {person.Name}");

    // A function error, with an inner exception (the error document's "cause").
    public Stream Throws(Stream input) =>
        throw new InvalidOperationException("outer failure", new ArgumentException("inner cause"));

    // Not a shape RuntimeSupport accepts: the second parameter must be ILambdaContext.
    public Stream SecondParameterNotContext(Stream input, string other) => input;
}
