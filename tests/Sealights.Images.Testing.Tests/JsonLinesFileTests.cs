namespace Sealights.Images.Testing.Tests;

public sealed class JsonLinesFileTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"jsonl-{Guid.NewGuid():N}.jsonl");

    [Fact]
    public void A_line_still_being_written_is_left_for_the_next_read()
    {
        using var writer = new FileStream(_path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite);
        writer.Write("{\"a\":1}\n{\"b\":"u8);
        writer.Flush();

        Assert.Equal(["{\"a\":1}"], JsonLinesFile.CompleteLines(_path));

        writer.Write("2}\n"u8);
        writer.Flush();

        Assert.Equal(["{\"a\":1}", "{\"b\":2}"], JsonLinesFile.CompleteLines(_path));
    }

    public void Dispose() => File.Delete(_path);
}
