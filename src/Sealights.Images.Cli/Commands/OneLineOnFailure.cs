namespace Sealights.Images.Cli.Commands;

/// <summary>
/// A verb's last guard: an exception nobody expected is one line on standard error (never a stack
/// trace) and exit 1. Expected failures are handled, with their own lines, inside the verbs.
/// </summary>
internal static class OneLineOnFailure
{
    public static async Task<int> RunAsync(string verb, Func<Task<int>> run)
    {
        try
        {
            return await run();
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Finding;
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"sl-images {verb}: failed: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
            // For a bug report: the whole exception only when asked.
            if (Environment.GetEnvironmentVariable("SL_IMAGES_TRACE") == "1")
            {
                await Console.Error.WriteLineAsync(e.ToString());
            }
            return ExitCodes.Finding;
        }
    }
}
