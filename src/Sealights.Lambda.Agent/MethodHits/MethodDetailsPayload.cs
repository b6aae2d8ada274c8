using System.Buffers.Binary;

namespace Sealights.Lambda.Agent.MethodHits;

/// <summary>
/// The MethodDetails event (id 72), read from its raw payload (TraceEvent 4.0.0 decoded it
/// wrongly, which is how this layout was pinned down). Layout, checked against R2RGetEntryPoint's MethodID and the module ids of
/// ModuleLoad on .NET 10 (little-endian):
/// <c>MethodID u64 | TypeID u64 | MethodToken u32 | TypeParameterCount u32 | LoaderModuleID u64 | TypeParameters u64[count]</c>.
/// Observed on .NET 10: for the application's own methods (generic or not) the loader module is
/// the defining module, and a framework generic type instantiated over an application struct
/// (<c>List&lt;Point&gt;</c>) reports the framework's module; framework generic methods over
/// application types (<c>Enumerable.First&lt;Point&gt;</c>) are jitted, and JIT events carry the
/// defining module. So a token is never resolved against the wrong module's metadata.
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
