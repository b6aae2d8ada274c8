using System.Buffers.Binary;

namespace Sealights.Lambda.Agent.MethodHits;

/// <summary>
/// The MethodDetails event (id 72), read from its raw payload because TraceEvent 4.0.0 decodes
/// it wrongly. Layout, checked against R2RGetEntryPoint's MethodID and the module ids of
/// ModuleLoad on .NET 10 (little-endian):
/// <c>MethodID u64 | TypeID u64 | MethodToken u32 | TypeParameterCount u32 | LoaderModuleID u64 | TypeParameters u64[count]</c>.
/// For the methods the agent maps (non-generic, or generic definitions of the application) the
/// loader module is the defining module; an instantiation of a framework generic over an
/// application type (<c>List&lt;Point&gt;</c>) reports the framework's module, as observed.
/// </summary>
internal readonly record struct MethodDetailsPayload(long MethodId, int MethodToken, long LoaderModuleId)
{
    private const int FixedSize = 32;

    public static bool TryRead(ReadOnlySpan<byte> payload, out MethodDetailsPayload details)
    {
        details = default;
        if (payload.Length < FixedSize)
        {
            return false;
        }

        var typeParameterCount = BinaryPrimitives.ReadUInt32LittleEndian(payload[20..]);
        if (payload.Length != FixedSize + (8L * typeParameterCount))
        {
            // Not the layout above: a different runtime version; better no hit than a wrong one.
            return false;
        }

        details = new MethodDetailsPayload(
            BinaryPrimitives.ReadInt64LittleEndian(payload),
            BinaryPrimitives.ReadInt32LittleEndian(payload[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(payload[24..]));
        return true;
    }
}
