using System.Runtime.CompilerServices;
using Amazon.Lambda.Core;

namespace Sealights.Lambda.LocalRuntime;

/// <summary>
/// Local stand-in of AWS's Amazon.Lambda.RuntimeSupport in class-library mode:
/// <c>dotnet exec --depsfile F.deps.json --runtimeconfig F.runtimeconfig.json Amazon.Lambda.RuntimeSupport.dll Asm::Ns.Type::Method</c>.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args.Length != 1)
        {
            Console.Error.WriteLine("usage: Amazon.Lambda.RuntimeSupport.dll Assembly::Namespace.Type::Method");
            return 2;
        }
        var runtimeApi = Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API");
        if (string.IsNullOrWhiteSpace(runtimeApi))
        {
            Console.Error.WriteLine("AWS_LAMBDA_RUNTIME_API is not set: this runtime must be started by Lambda or a Lambda emulator.");
            return 2;
        }

        using var api = new RuntimeApiClient(runtimeApi);
        BoundHandler handler;
        try
        {
            handler = Initialize(args[0]);
        }
        catch (Exception e)
        {
            // Includes the FileNotFoundException for Amazon.Lambda.Core when the function's
            // deps.json lacks it: RuntimeSupport fails init the same way on AWS.
            var error = LambdaError.FromException(e);
            Console.Error.WriteLine(error.ToLogLine(null));
            await api.PostInitErrorAsync(error, CancellationToken.None).ConfigureAwait(false);
            return 1;
        }

        try
        {
            await InvocationLoop.RunAsync(api, handler, FunctionSettings.FromEnvironment()).ConfigureAwait(false);
            return 0;
        }
        catch (HttpRequestException e)
        {
            // The Runtime API went away or broke the contract: nothing left to serve.
            Console.Error.WriteLine("Runtime API failure: " + e.Message);
            return 1;
        }
    }

    // Not inlined, so a missing Amazon.Lambda.Core surfaces inside Main's try, as an init error.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static BoundHandler Initialize(string handler)
    {
        LoadLambdaCore();
        return HandlerBinder.Bind(handler);
    }

    // The first use of Amazon.Lambda.Core: it binds from the function's deps.json or not at all.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void LoadLambdaCore() => _ = typeof(ILambdaContext).Assembly;
}
