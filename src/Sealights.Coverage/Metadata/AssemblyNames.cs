using System.Reflection.Metadata;

namespace Sealights.Coverage.Metadata;

/// <summary>The simple name an id starts with.</summary>
internal static class AssemblyNames
{
    public static string Of(MetadataReader metadata)
    {
        if (metadata.IsAssembly)
        {
            return metadata.GetString(metadata.GetAssemblyDefinition().Name);
        }

        // A netmodule has no assembly row; its module name without extension is the closest stable name.
        return Path.GetFileNameWithoutExtension(metadata.GetString(metadata.GetModuleDefinition().Name));
    }
}
