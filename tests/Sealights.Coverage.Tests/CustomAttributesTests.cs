using Sealights.Coverage.Metadata;
using static Sealights.Coverage.Tests.SyntheticAssembly;

namespace Sealights.Coverage.Tests;

/// <summary>
/// Attribute checks by namespace and name (ECMA-335 II.21 blobs), on metadata written for each
/// shape: referenced, embedded by the compiler, generic, in another namespace, malformed.
/// </summary>
public class CustomAttributesTests
{
    private static SyntheticAttribute Referenced(string ns, string name, byte[]? value = null) => new(AttributeKind.Referenced, ns, name, value ?? NoArguments);

    private static SyntheticAttribute Embedded(string ns, string name, byte[]? value = null) => new(AttributeKind.Embedded, ns, name, value ?? NoArguments);

    private const string StateMachineType = "Ns.Outer+<Run>d__3";

    public static TheoryData<string, SyntheticAttribute[], bool> CompilerGeneratedCases => new()
    {
        { "referenced", [Referenced(CompilerServices, "CompilerGeneratedAttribute")], true },
        { "embedded", [Embedded(CompilerServices, "CompilerGeneratedAttribute")], true },
        { "after another attribute", [Referenced("System", "ObsoleteAttribute"), Referenced(CompilerServices, "CompilerGeneratedAttribute")], true },
        { "none", [], false },
        { "another attribute", [Referenced("System", "ObsoleteAttribute")], false },
        { "same name, another namespace", [Referenced("Other.CompilerServices", "CompilerGeneratedAttribute")], false },
        { "same namespace, another name", [Referenced(CompilerServices, "AsyncStateMachineAttribute", TypeOf(StateMachineType))], false },
        { "embedded, another namespace", [Embedded("Fixture", "CompilerGeneratedAttribute")], false },
        { "generic", [new SyntheticAttribute(AttributeKind.Generic, CompilerServices, "CompilerGeneratedAttribute", NoArguments)], false },
    };

    [Theory]
    [MemberData(nameof(CompilerGeneratedCases))]
    public void CompilerGenerated_is_recognized_by_namespace_and_name_only(string shape, SyntheticAttribute[] attributes, bool expected)
    {
        var assembly = new SyntheticAssembly();
        var method = assembly.Type("Ns", "Outer").Method("M", attributes);
        using var image = assembly.Build();

        Assert.True(expected == CustomAttributes.IsCompilerGenerated(image.Metadata, image.AttributesOf(method)), shape);
    }

    public static TheoryData<string, SyntheticAttribute[], string?> StateMachineCases => new()
    {
        { "async", [Referenced(CompilerServices, "AsyncStateMachineAttribute", TypeOf(StateMachineType))], StateMachineType },
        { "iterator", [Referenced(CompilerServices, "IteratorStateMachineAttribute", TypeOf(StateMachineType))], StateMachineType },
        { "async iterator", [Referenced(CompilerServices, "AsyncIteratorStateMachineAttribute", TypeOf(StateMachineType))], StateMachineType },
        { "embedded", [Embedded(CompilerServices, "AsyncStateMachineAttribute", TypeOf(StateMachineType))], StateMachineType },
        { "assembly-qualified", [Referenced(CompilerServices, "AsyncStateMachineAttribute", TypeOf(StateMachineType + ", Synthetic"))], StateMachineType + ", Synthetic" },
        // An argument-less attribute first: its blob would read as an empty string if it were taken.
        {
            "after CompilerGenerated",
            [Referenced(CompilerServices, "CompilerGeneratedAttribute"), Referenced(CompilerServices, "AsyncStateMachineAttribute", TypeOf(StateMachineType))],
            StateMachineType
        },
        { "none", [], null },
        { "CompilerGenerated only", [Referenced(CompilerServices, "CompilerGeneratedAttribute")], null },
        { "another namespace", [Referenced("Other", "AsyncStateMachineAttribute", TypeOf(StateMachineType))], null },
        { "another name", [Referenced(CompilerServices, "StateMachineHelper", TypeOf(StateMachineType))], null },
        { "generic", [new SyntheticAttribute(AttributeKind.Generic, CompilerServices, "AsyncStateMachineAttribute", TypeOf(StateMachineType))], null },
        // Malformed blobs: no prolog, or a prolog other than 0x0001.
        { "empty blob", [Referenced(CompilerServices, "AsyncStateMachineAttribute", [])], null },
        { "one-byte blob", [Referenced(CompilerServices, "AsyncStateMachineAttribute", [1])], null },
        { "prolog 2", [Referenced(CompilerServices, "AsyncStateMachineAttribute", [2, .. TypeOf(StateMachineType)[1..]])], null },
    };

    [Theory]
    [MemberData(nameof(StateMachineCases))]
    public void The_state_machine_type_is_the_typeof_argument_of_a_StateMachine_attribute(string shape, SyntheticAttribute[] attributes, string? expected)
    {
        var assembly = new SyntheticAssembly();
        var method = assembly.Type("Ns", "Outer").Method("Run", attributes);
        using var image = assembly.Build();

        Assert.True(expected == CustomAttributes.StateMachineTypeName(image.Metadata, image.AttributesOf(method)), shape);
    }
}
