using System.Text.RegularExpressions;

namespace Sealights.Images.Aws.Tests;

/// <summary>ECR's tag wildcards (lifecycle tagPatternList, mutability exclusion filters): '*' is any
/// run of characters, everything else literal, the whole tag must match.</summary>
public static class EcrWildcard
{
    public static bool Matches(string pattern, string tag) =>
        Regex.IsMatch(tag, "^" + string.Join(".*", pattern.Split('*').Select(Regex.Escape)) + "$");
}
