using System.Buffers.Binary;
using Sealights.Lambda.Agent.Diagnostics.NetTrace;

namespace Sealights.Lambda.Agent.Diagnostics;

/// <summary>
/// The payloads of the <c>Sealights-Coverage</c> events (src/Sealights.Coverage.Probes/README.md,
/// "Flush protocol"): int32 little-endian, strings UTF-16LE NUL-terminated, Guid 16 bytes,
/// <c>byte[]</c> an int32 length then the bytes. Every read is bounds-checked: a payload that does
/// not fit is refused (false), never read past.
/// </summary>
internal static class CoveragePayloads
{
    public const int ModuleHitsEvent = 1;
    public const int FlushCompletedEvent = 2;
    public const int FlushFailedEvent = 3;
    public const int InvocationEndedEvent = 4;
    public const int BoundariesArmedEvent = 5;
    public const int BoundariesUnavailableEvent = 6;

    /// <summary>Longest assembly name taken (a longer one is not an assembly name).</summary>
    private const int MaxNameChars = 1024;

    /// <summary>
    /// Event 1: <c>Sequence, Chunk, AssemblyName, Mvid, MethodDefCount, Indices</c>.
    /// <paramref name="indices"/> is a view into the payload (little-endian int32s), valid while it is.
    /// </summary>
    public static bool TryReadModuleHits(ReadOnlySpan<byte> payload, out ModuleHitsHeader header, out ReadOnlySpan<byte> indices)
    {
        header = default;
        indices = default;
        if (!TryInt32(ref payload, out var sequence) || !TryInt32(ref payload, out var chunk)
            || !TryString(ref payload, out var name) || payload.Length < 16)
        {
            return false;
        }

        var mvid = new Guid(payload[..16]);
        payload = payload[16..];
        if (!TryInt32(ref payload, out var methodDefCount) || !TryInt32(ref payload, out var length)
            || length < 0 || length % 4 != 0 || length > payload.Length || methodDefCount < 0 || chunk < 0)
        {
            return false;
        }

        header = new ModuleHitsHeader(sequence, chunk, name, mvid, methodDefCount);
        indices = payload[..length];
        return true;
    }

    /// <summary>Event 2: <c>Sequence, Chunks, Modules, Methods</c>.</summary>
    public static bool TryReadFlushCompleted(ReadOnlySpan<byte> payload, out FlushCompletedPayload completed)
    {
        completed = default;
        if (!TryInt32(ref payload, out var sequence) || !TryInt32(ref payload, out var chunks)
            || !TryInt32(ref payload, out var modules) || !TryInt32(ref payload, out var methods)
            || chunks < 0 || modules < 0 || methods < 0)
        {
            return false;
        }

        completed = new FlushCompletedPayload(sequence, chunks, modules, methods);
        return true;
    }

    /// <summary>Event 4: <c>Sequence, RequestId, Chunks, Modules, Methods</c> (a boundary harvest's end; sequence &lt; 0).</summary>
    public static bool TryReadInvocationEnded(ReadOnlySpan<byte> payload, out string requestId, out FlushCompletedPayload completed)
    {
        completed = default;
        requestId = "";
        if (!TryInt32(ref payload, out var sequence) || !TryString(ref payload, out requestId)
            || !TryInt32(ref payload, out var chunks) || !TryInt32(ref payload, out var modules) || !TryInt32(ref payload, out var methods)
            || sequence >= 0 || chunks < 0 || modules < 0 || methods < 0)
        {
            return false;
        }

        completed = new FlushCompletedPayload(sequence, chunks, modules, methods);
        return true;
    }

    /// <summary>Events 5 and 6: one string (the Runtime API address armed, or why not).</summary>
    public static bool TryReadText(ReadOnlySpan<byte> payload, out string text) => TryString(ref payload, out text);

    /// <summary>Event 3: <c>Sequence, Reason</c>.</summary>
    public static bool TryReadFlushFailed(ReadOnlySpan<byte> payload, out int sequence, out string reason)
    {
        reason = "";
        return TryInt32(ref payload, out sequence) && TryString(ref payload, out reason);
    }

    /// <summary>The <paramref name="i"/>-th index of a chunk's indices.</summary>
    public static int IndexAt(ReadOnlySpan<byte> indices, int i) => BinaryPrimitives.ReadInt32LittleEndian(indices[(i * 4)..]);

    private static bool TryInt32(ref ReadOnlySpan<byte> payload, out int value)
    {
        if (payload.Length < 4)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadInt32LittleEndian(payload);
        payload = payload[4..];
        return true;
    }

    // A string must end with its NUL inside the payload; one that does not is a truncated record.
    private static bool TryString(ref ReadOnlySpan<byte> payload, out string value)
    {
        value = "";
        var chars = Math.Min(payload.Length / 2, MaxNameChars + 1);
        for (var i = 0; i < chars; i++)
        {
            if (payload[2 * i] == 0 && payload[(2 * i) + 1] == 0)
            {
                var text = payload[..((i + 1) * 2)];
                value = Utf16.ReadNullTerminated(ref text);
                payload = payload[((i + 1) * 2)..];
                return true;
            }
        }

        return false;
    }
}

/// <summary>What a <c>ModuleHits</c> chunk says about itself.</summary>
internal readonly record struct ModuleHitsHeader(int Sequence, int Chunk, string AssemblyName, Guid Mvid, int MethodDefCount);

/// <summary>The end of a flush: how many chunks, modules and methods it sent.</summary>
internal readonly record struct FlushCompletedPayload(int Sequence, int Chunks, int Modules, int Methods);
