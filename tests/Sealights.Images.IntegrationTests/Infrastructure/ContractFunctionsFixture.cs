using Sealights.Images.Testing;

namespace Sealights.Images.IntegrationTests.Infrastructure;

/// <summary>
/// Once per run: the runtime-client contract fixtures (tests/Sealights.Lambda.Contract.*)
/// published and built into images on the .NET 10 stand-in.
/// </summary>
public sealed class ContractFunctionsFixture : IAsyncLifetime
{
    public const string FunctionsAssembly = "Sealights.Lambda.Contract.Functions";
    public const string ExecutableAssembly = "Sealights.Lambda.Contract.Executable";
    public const string NoCoreHandler = "Sealights.Lambda.Contract.NoCore::Contract.NoCore.Function::Handle";

    /// <summary>Every shape in one function; start it with the handler as the command.</summary>
    public string FunctionsImage { get; private set; } = "";

    /// <summary>A (Stream) function without Amazon.Lambda.Core in its deps.json, CMD = its handler.</summary>
    public string NoCoreImage { get; private set; } = "";

    /// <summary>An executable-assembly function, CMD = its assembly name.</summary>
    public string ExecutableImage { get; private set; } = "";

    public static string Handler(string method) => $"{FunctionsAssembly}::Contract.Functions.Handlers::{method}";

    public async Task InitializeAsync()
    {
        await StandInImages.EnsureBaseImagesAsync();
        FunctionsImage = await BuildAsync(FunctionsAssembly, Handler("StreamEcho"));
        NoCoreImage = await BuildAsync("Sealights.Lambda.Contract.NoCore", NoCoreHandler);
        ExecutableImage = await BuildAsync(ExecutableAssembly, ExecutableAssembly);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static async Task<string> BuildAsync(string project, string cmd)
    {
        var output = await FunctionPublisher.PublishAsync(Path.Combine("tests", project), "net10.0");
        return await ImageBuilder.BuildAsync(StandInImages.Base("10"), [], cmd: cmd, copyDirectoryTo: "/var/task/", copyDirectoryFrom: output);
    }
}

[CollectionDefinition(Name)]
public sealed class ContractFunctionsCollection : ICollectionFixture<ContractFunctionsFixture>
{
    public const string Name = "runtime client contract";
}
