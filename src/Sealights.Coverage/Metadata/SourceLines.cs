using System.Reflection.Metadata;

namespace Sealights.Coverage.Metadata;

/// <summary>The source span of one method body, from its non-hidden sequence points.</summary>
internal readonly record struct SourceLines(DocumentHandle Document, int StartLine, int EndLine)
{
    /// <summary>
    /// The span in the document of the method's LAST sequence point (its closing brace): a
    /// constructor's first points may be field initializers in another partial file.
    /// False when every point is hidden, i.e. the method has no source of its own.
    /// </summary>
    public static bool TryRead(MetadataReader pdb, MethodDefinitionHandle method, out SourceLines lines)
    {
        lines = default;
        var points = new List<SequencePoint>();
        foreach (var point in pdb.GetMethodDebugInformation(method).GetSequencePoints())
        {
            if (!point.IsHidden)
            {
                points.Add(point);
            }
        }

        if (points.Count == 0)
        {
            return false;
        }

        var document = points[^1].Document;
        var start = int.MaxValue;
        var end = 0;
        foreach (var point in points)
        {
            if (point.Document == document)
            {
                start = Math.Min(start, point.StartLine);
                end = Math.Max(end, point.EndLine);
            }
        }

        lines = new SourceLines(document, start, end);
        return true;
    }

    /// <summary>Widens this span by another body of the same source method in the same document.</summary>
    public SourceLines Merge(SourceLines other) =>
        other.Document == Document
            ? this with { StartLine = Math.Min(StartLine, other.StartLine), EndLine = Math.Max(EndLine, other.EndLine) }
            : this;
}
