using Sealights.Images.Testing;

namespace Sealights.Images.Cli.Tests;

/// <summary><c>sl-images handler</c> (run by the MSBuild package at publish) on this test assembly's own output folder.</summary>
public sealed class HandlerCommandTests
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "sl-images.dll");
    private static readonly string Folder = AppContext.BaseDirectory.TrimEnd('/');
    private const string Assembly = "Sealights.Images.Cli.Tests";
    private const string Type = "Sealights.Images.Cli.Tests.HandlerCommandTests+Function";

    private static Task<ProcessResult> CheckAsync(string handler) =>
        ProcessRunner.RunAsync("dotnet", [Cli, "handler", Folder, handler], TimeSpan.FromMinutes(1));

    [Fact]
    public async Task An_existing_handler_passes()
    {
        var result = await CheckAsync($"{Assembly}::{Type}::Handle");
        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public async Task An_inherited_method_is_a_handler_too()
    {
        var result = await CheckAsync($"{Assembly}::Sealights.Images.Cli.Tests.HandlerCommandTests+DerivedFunction::Handle");
        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public async Task A_wrong_assembly_name_says_which_assemblies_are_there()
    {
        var result = await CheckAsync($"Sealights.Images.Cli.Test::{Type}::Handle");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("there is no Sealights.Images.Cli.Test.dll in the publish folder; the part before the first '::' is the assembly name", result.StdErr, StringComparison.Ordinal);
        Assert.Contains(Assembly, result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_type_typo_suggests_the_type()
    {
        var result = await CheckAsync($"{Assembly}::Sealights.Images.Cli.Tests.HandlerCommandTests+Functon::Handle");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("has no type 'Sealights.Images.Cli.Tests.HandlerCommandTests+Functon'", result.StdErr, StringComparison.Ordinal);
        Assert.Contains($"did you mean '{Type}'", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_type_without_its_namespace_suggests_the_full_name()
    {
        var result = await CheckAsync($"{Assembly}::HandlerCommandTests+Function::Handle");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("the middle part is the type's full name, namespace included", result.StdErr, StringComparison.Ordinal);
        Assert.Contains($"'{Type}'", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_method_typo_lists_the_types_methods()
    {
        var result = await CheckAsync($"{Assembly}::{Type}::Handel");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"type '{Type}' has no method 'Handel'; the part after the last '::' is the method name (its methods: Handle, Helper)", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_handler_without_three_parts_is_bad_input()
    {
        var result = await CheckAsync($"{Assembly}::{Type}");
        Assert.Equal(2, result.ExitCode);
    }

    public class Function
    {
        public string Handle(string input) => Helper(input);

        public static string Helper(string input) => input;
    }

    public sealed class DerivedFunction : Function;
}
