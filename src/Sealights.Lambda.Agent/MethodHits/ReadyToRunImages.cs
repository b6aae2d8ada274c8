using System.Reflection.PortableExecutable;

namespace Sealights.Lambda.Agent.MethodHits;

/// <summary>
/// Whether an assembly file carries precompiled (ReadyToRun) code: crossgen marks the image as
/// an IL library and gives it a managed native header. Only headers are read.
/// </summary>
internal static class ReadyToRunImages
{
    public static bool IsReadyToRun(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var image = new PEReader(stream);
            var header = image.PEHeaders.CorHeader;
            return header is not null
                && ((header.Flags & CorFlags.ILLibrary) != 0 || header.ManagedNativeHeaderDirectory.Size != 0);
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
