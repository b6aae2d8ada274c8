namespace Sealights.Lambda.Agent.Configuration;

/// <summary>The words a true/false setting accepts (SL_ENABLED, SL_TELEMETRY_API), case-insensitively.</summary>
public static class BooleanSetting
{
    public static bool TryParse(string text, out bool value)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "true" or "1" or "yes":
                value = true;
                return true;
            case "false" or "0" or "no":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }
}
