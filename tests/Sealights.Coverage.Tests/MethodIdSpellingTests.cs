using System.Reflection.Metadata;
using Sealights.Coverage.Metadata;

namespace Sealights.Coverage.Tests;

/// <summary>
/// The id format's spelling rules (README.md, "Method id format"), checked rule by rule against
/// what the README and the runtime say, for the cases the fixture assembly does not reach.
/// </summary>
public class MethodIdSpellingTests
{
    // Every primitive of a signature is spelled as the runtime's full name of the type.
    public static TheoryData<PrimitiveTypeCode, Type> Primitives => new()
    {
        { PrimitiveTypeCode.Boolean, typeof(bool) },
        { PrimitiveTypeCode.Byte, typeof(byte) },
        { PrimitiveTypeCode.SByte, typeof(sbyte) },
        { PrimitiveTypeCode.Char, typeof(char) },
        { PrimitiveTypeCode.Int16, typeof(short) },
        { PrimitiveTypeCode.UInt16, typeof(ushort) },
        { PrimitiveTypeCode.Int32, typeof(int) },
        { PrimitiveTypeCode.UInt32, typeof(uint) },
        { PrimitiveTypeCode.Int64, typeof(long) },
        { PrimitiveTypeCode.UInt64, typeof(ulong) },
        { PrimitiveTypeCode.Single, typeof(float) },
        { PrimitiveTypeCode.Double, typeof(double) },
        { PrimitiveTypeCode.IntPtr, typeof(nint) },
        { PrimitiveTypeCode.UIntPtr, typeof(nuint) },
        { PrimitiveTypeCode.Object, typeof(object) },
        { PrimitiveTypeCode.String, typeof(string) },
        { PrimitiveTypeCode.TypedReference, typeof(TypedReference) },
        { PrimitiveTypeCode.Void, typeof(void) },
    };

    [Theory]
    [MemberData(nameof(Primitives))]
    public void Primitive_types_are_spelled_by_their_full_runtime_name(PrimitiveTypeCode code, Type type)
    {
        Assert.Equal(type.FullName, SignatureTypeNameProvider.Instance.GetPrimitiveType(code));
    }

    [Fact]
    public void Every_primitive_type_code_has_a_spelling()
    {
        Assert.Equal(Enum.GetValues<PrimitiveTypeCode>().Order(), Primitives.Select(row => (PrimitiveTypeCode)row[0]).Order());
    }

    [Fact]
    public void An_unknown_primitive_type_code_is_a_bad_image()
    {
        Assert.Throws<BadImageFormatException>(() => SignatureTypeNameProvider.Instance.GetPrimitiveType((PrimitiveTypeCode)0x7F));
    }

    [Fact]
    public void Array_byref_pointer_and_function_pointer_spellings_follow_the_readme()
    {
        Assert.Equal("System.Int32[]", MethodIdentityFormat.SzArray("System.Int32"));
        Assert.Equal("System.Int32[,]", MethodIdentityFormat.Array("System.Int32", 2));
        Assert.Equal("System.Int32[,,]", MethodIdentityFormat.Array("System.Int32", 3));
        Assert.Equal("System.Int32&", MethodIdentityFormat.ByReference("System.Int32"));
        Assert.Equal("System.Int32*", MethodIdentityFormat.Pointer("System.Int32"));
        Assert.Equal("fnptr(System.Int32):System.Void", MethodIdentityFormat.FunctionPointer("System.Void", ["System.Int32"]));
        Assert.Equal("fnptr(System.Int32,System.String):System.Void", MethodIdentityFormat.FunctionPointer("System.Void", ["System.Int32", "System.String"]));
        Assert.Equal("!1", MethodIdentityFormat.GenericTypeParameter(1));
        Assert.Equal("!!0", MethodIdentityFormat.GenericMethodParameter(0));
    }

    [Fact]
    public void Type_names_join_namespace_and_nested_types()
    {
        Assert.Equal("Ns.Sub.Type", MethodIdentityFormat.TypeName("Ns.Sub", "Type"));
        Assert.Equal("Type", MethodIdentityFormat.TypeName("", "Type"));
        Assert.Equal("Ns.Outer+Inner", MethodIdentityFormat.NestedTypeName("Ns.Outer", "Inner"));
    }

    [Theory]
    [InlineData("Ns.Box`1", new[] { "System.String", "System.Int32" }, "Ns.Box`1<System.String,System.Int32>")]
    [InlineData("Ns.Box`x", new[] { "System.String" }, "Ns.Box`x<System.String>")]
    [InlineData("Ns.Box", new[] { "System.String" }, "Ns.Box<System.String>")]
    [InlineData("Ns.Outer`1+Inner`2", new[] { "A", "B" }, "Ns.Outer`1+Inner<A,B>")]
    public void Generic_instances_keep_an_arity_that_does_not_match_their_arguments(string generic, string[] arguments, string expected)
    {
        Assert.Equal(expected, MethodIdentityFormat.GenericInstance(generic, arguments));
    }

    [Fact]
    public void A_method_without_parameters_or_generic_arity_has_empty_parentheses()
    {
        Assert.Equal("A|T|Run()", MethodIdentity.ForMethod("A", "T", "Run", 0, [], "System.Void").Id);
        Assert.Equal("A|T|Run`1()", MethodIdentity.ForMethod("A", "T", "Run", 1, [], "System.Void").Id);
    }

    [Fact]
    public void Identities_with_different_ids_are_not_equal()
    {
        var run = MethodIdentity.ForMethod("A", "T", "Run", 0, [], "System.Void");
        var stop = MethodIdentity.ForMethod("A", "T", "Stop", 0, [], "System.Void");
        var otherAssembly = MethodIdentity.ForMethod("B", "T", "Run", 0, [], "System.Void");

        Assert.False(run.Equals(stop));
        Assert.False(run.Equals(otherAssembly));
        Assert.False(run.Equals((object)stop));
        Assert.False(run.Equals(null));
        Assert.False(run.Equals((object?)null));
        Assert.False(run.Equals((object)"A|T|Run()"));
        Assert.True(run.Equals((object)MethodIdentity.ForMethod("A", "T", "Run", 0, [], "System.Int32")));
    }

    [Fact]
    public void Ids_compare_ordinally_not_by_culture_or_case()
    {
        var upper = MethodIdentity.ForMethod("A", "T", "Run", 0, [], "System.Void");
        var lower = MethodIdentity.ForMethod("A", "T", "run", 0, [], "System.Void");

        Assert.NotEqual(upper, lower);
    }

    [Theory]
    [InlineData("A|T|M()|extra", "A", "T", "M()|extra")]
    [InlineData("A|T|M", "A", "T", "M")]
    [InlineData("A|B|C|", "A", "B", "C|")]
    public void Only_the_first_two_separators_split_an_id(string id, string assembly, string type, string member)
    {
        Assert.True(MethodIdentity.TryParse(id, out var identity));

        Assert.Equal((assembly, type, member, id), (identity.AssemblyName, identity.TypeName, identity.Member, identity.Id));
    }

    [Theory]
    [InlineData("|")]
    [InlineData("||")]
    [InlineData("A||")]
    [InlineData("A|")]
    public void Ids_with_an_empty_part_are_refused(string id)
    {
        Assert.False(MethodIdentity.TryParse(id, out var identity));
        Assert.Null(identity);
    }
}
