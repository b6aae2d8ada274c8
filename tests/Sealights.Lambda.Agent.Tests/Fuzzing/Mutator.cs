using System.Buffers.Binary;
using System.Text;

namespace Sealights.Lambda.Agent.Tests.Fuzzing;

/// <summary>
/// Makes inputs from a corpus of real ones by stacking one to four mutations. Generic byte
/// mutations (flip, set, insert, delete, duplicate, truncate, splice) plus two that know the
/// shape of what the agent reads: sizes and counts in binary formats are little-endian integers
/// (NetTrace: block sizes, header sizes, string lengths), so aligned 2/4/8-byte fields are
/// overwritten with boundary values; in text formats (HTTP, JSON) numbers are runs of decimal or
/// hex digits, so such runs are replaced with boundary numbers. Deterministic for a seed.
/// </summary>
internal sealed class Mutator(IReadOnlyList<byte[]> corpus, int seed, int maxLength)
{
    private static readonly long[] BoundaryIntegers =
    [
        0, 1, -1, 2, 4, 16, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 64 * 1024 * 1024, 64 * 1024 * 1024 + 1,
        0x7FFFFFC0, int.MaxValue, int.MinValue, uint.MaxValue, 1L << 32, long.MaxValue, long.MinValue,
    ];

    private static readonly string[] BoundaryNumbers =
    [
        "0", "-1", "", " ", "1e308", "-0", "0x10", "00000000000000000000001", "2147483647", "2147483648", "4294967295",
        "4294967296", "9223372036854775807", "9223372036854775808", "18446744073709551616", "99999999999", "FFFFFFFF",
        "7FFFFFC0", "FFFFFFFFFFFFFFC0", "10000000000000000", "-9223372036854775808", "1.5", "NaN", "253402300800000",
    ];

    private static readonly byte[] BoundaryBytes = [0, 1, 0x7F, 0x80, 0xFF, (byte)'\r', (byte)'\n', (byte)':', (byte)'"', (byte)'{', (byte)'[', (byte)';'];

    private readonly Random _random = new(seed);

    public byte[] Next()
    {
        var input = new List<byte>(corpus[_random.Next(corpus.Count)]);
        var mutations = 1 + _random.Next(4);
        for (var i = 0; i < mutations; i++)
        {
            Mutate(input);
        }
        if (input.Count > maxLength)
        {
            input.RemoveRange(maxLength, input.Count - maxLength);
        }
        return [.. input];
    }

    private void Mutate(List<byte> input)
    {
        if (input.Count == 0)
        {
            input.AddRange(corpus[_random.Next(corpus.Count)]);
            return;
        }
        var at = _random.Next(input.Count);
        switch (_random.Next(11))
        {
            case 0:
                input[at] ^= (byte)(1 << _random.Next(8));
                break;
            case 1:
                input[at] = BoundaryBytes[_random.Next(BoundaryBytes.Length)];
                break;
            case 2:
            case 3:
                OverwriteInteger(input);
                break;
            case 4:
            case 5:
                ReplaceNumber(input);
                break;
            case 6:
                input.RemoveRange(at, Math.Min(input.Count - at, 1 + _random.Next(64)));
                break;
            case 7:
                var length = Math.Min(input.Count - at, 1 + _random.Next(256));
                input.InsertRange(_random.Next(input.Count + 1), input.GetRange(at, length));
                break;
            case 8:
                var bytes = new byte[1 + _random.Next(16)];
                _random.NextBytes(bytes);
                input.InsertRange(at, bytes);
                break;
            case 9:
                input.RemoveRange(at, input.Count - at);
                break;
            default:
                var other = corpus[_random.Next(corpus.Count)];
                var from = _random.Next(other.Length + 1);
                input.RemoveRange(at, input.Count - at);
                input.AddRange(other.AsSpan(from).ToArray());
                break;
        }
    }

    private void OverwriteInteger(List<byte> input)
    {
        var width = 1 << (1 + _random.Next(3));
        if (input.Count < width)
        {
            return;
        }
        // Fields of these formats mostly sit at offsets aligned to their width; sometimes not.
        var at = _random.Next(input.Count - width + 1);
        if (_random.Next(4) != 0)
        {
            at -= at % width;
        }
        Span<byte> value = stackalloc byte[8];
        var number = BoundaryIntegers[_random.Next(BoundaryIntegers.Length)] + (_random.Next(8) == 0 ? _random.Next(-2, 3) : 0);
        BinaryPrimitives.WriteInt64LittleEndian(value, number);
        for (var i = 0; i < width; i++)
        {
            input[at + i] = value[i];
        }
    }

    private void ReplaceNumber(List<byte> input)
    {
        // A run of hex digits (which covers decimal ones) around a random point, else insert at it.
        var at = _random.Next(input.Count);
        var start = at;
        while (start < input.Count && !Uri.IsHexDigit((char)input[start]))
        {
            start++;
        }
        if (start == input.Count)
        {
            start = at;
        }
        var end = start;
        while (end < input.Count && Uri.IsHexDigit((char)input[end]))
        {
            end++;
        }
        input.RemoveRange(start, end - start);
        input.InsertRange(start, Encoding.ASCII.GetBytes(BoundaryNumbers[_random.Next(BoundaryNumbers.Length)]));
    }
}
