using System.Buffers.Binary;

namespace Sealights.Lambda.Agent.Diagnostics.NetTrace;

/// <summary>
/// The header of one event blob. In the compressed encoding (what runtimes write) each header
/// only carries what changed since the previous one in the same block, so decoding updates the
/// previous header in place; a block starts from all zeroes.
/// </summary>
internal struct EventHeader
{
    public int MetadataId;
    public int SequenceNumber;
    public long CaptureThreadId;
    public long Timestamp;
    public int PayloadSize;

    // Compressed header flags.
    private const byte HasMetadataId = 1;
    private const byte HasCaptureThreadAndSequence = 2;
    private const byte HasThreadId = 4;
    private const byte HasStackId = 8;
    private const byte HasActivityId = 16;
    private const byte HasRelatedActivityId = 32;
    private const byte HasPayloadSize = 128;

    private const int UncompressedSize = 4 + 4 + 4 + 8 + 8 + 4 + 4 + 8 + 16 + 16 + 4;

    /// <summary>Decodes a compressed header at <paramref name="offset"/>; returns where its payload starts.</summary>
    public static int ReadCompressed(ReadOnlySpan<byte> block, int offset, ref EventHeader header)
    {
        var flags = block[offset++];
        if ((flags & HasMetadataId) != 0)
        {
            header.MetadataId = (int)ReadVarUInt32(block, ref offset);
        }

        if ((flags & HasCaptureThreadAndSequence) != 0)
        {
            header.SequenceNumber += (int)ReadVarUInt32(block, ref offset);
            header.CaptureThreadId = (long)ReadVarUInt64(block, ref offset);
            _ = ReadVarUInt32(block, ref offset); // processor number
        }

        if (header.MetadataId != 0)
        {
            header.SequenceNumber++;
        }

        if ((flags & HasThreadId) != 0)
        {
            _ = ReadVarUInt64(block, ref offset);
        }

        if ((flags & HasStackId) != 0)
        {
            _ = ReadVarUInt32(block, ref offset);
        }

        header.Timestamp += (long)ReadVarUInt64(block, ref offset);
        if ((flags & HasActivityId) != 0)
        {
            offset += 16;
        }

        if ((flags & HasRelatedActivityId) != 0)
        {
            offset += 16;
        }

        if ((flags & HasPayloadSize) != 0)
        {
            header.PayloadSize = (int)ReadVarUInt32(block, ref offset);
        }

        return offset;
    }

    /// <summary>Decodes a fixed-size header at <paramref name="offset"/>; returns where its payload starts.</summary>
    public static int ReadUncompressed(ReadOnlySpan<byte> block, int offset, ref EventHeader header)
    {
        if (block.Length - offset < UncompressedSize)
        {
            throw new InvalidDataException($"an uncompressed event header cut at {block.Length - offset} of {UncompressedSize} bytes");
        }

        var fields = block.Slice(offset, UncompressedSize);
        // EventSize(4) | MetadataId(4, high bit: sorted) | Sequence(4) | ThreadId(8) | CaptureThreadId(8)
        // | Processor(4) | StackId(4) | Timestamp(8) | ActivityId(16) | RelatedActivityId(16) | PayloadSize(4)
        header.MetadataId = BinaryPrimitives.ReadInt32LittleEndian(fields[4..]) & 0x7FFFFFFF;
        header.SequenceNumber = BinaryPrimitives.ReadInt32LittleEndian(fields[8..]);
        header.CaptureThreadId = BinaryPrimitives.ReadInt64LittleEndian(fields[20..]);
        header.Timestamp = BinaryPrimitives.ReadInt64LittleEndian(fields[36..]);
        header.PayloadSize = BinaryPrimitives.ReadInt32LittleEndian(fields[76..]);
        return offset + UncompressedSize;
    }

    private static uint ReadVarUInt32(ReadOnlySpan<byte> block, ref int offset) => (uint)ReadVarUInt64(block, ref offset);

    // Little-endian base-128: 7 bits per byte, high bit set while more bytes follow.
    private static ulong ReadVarUInt64(ReadOnlySpan<byte> block, ref int offset)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (offset >= block.Length)
            {
                throw new InvalidDataException("a variable-length integer runs past its block");
            }

            var b = block[offset++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new InvalidDataException("a variable-length integer is longer than 10 bytes");
    }
}
