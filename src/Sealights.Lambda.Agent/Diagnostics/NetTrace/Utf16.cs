using System.Runtime.InteropServices;

namespace Sealights.Lambda.Agent.Diagnostics.NetTrace;

/// <summary>EventPipe strings: UTF-16 little-endian, NUL-terminated, packed without alignment.</summary>
internal static class Utf16
{
    /// <summary>Reads a string at the start of <paramref name="span"/> and moves past its terminator.</summary>
    public static string ReadNullTerminated(ref ReadOnlySpan<byte> span)
    {
        var length = Length(span);
        var text = new string(MemoryMarshal.Cast<byte, char>(span[..(length * 2)]));
        span = span[Math.Min(span.Length, (length + 1) * 2)..];
        return text;
    }

    public static void SkipNullTerminated(ref ReadOnlySpan<byte> span)
    {
        var length = Length(span);
        span = span[Math.Min(span.Length, (length + 1) * 2)..];
    }

    /// <summary>Characters before the NUL (or to the end of the span when there is none).</summary>
    private static int Length(ReadOnlySpan<byte> span)
    {
        var chars = span.Length / 2;
        for (var i = 0; i < chars; i++)
        {
            if (span[2 * i] == 0 && span[(2 * i) + 1] == 0)
            {
                return i;
            }
        }

        return chars;
    }
}
