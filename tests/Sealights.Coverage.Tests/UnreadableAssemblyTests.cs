namespace Sealights.Coverage.Tests;

/// <summary>Assemblies without a usable PDB are reported as such; broken files raise one clear exception type.</summary>
public class UnreadableAssemblyTests
{
    [Fact]
    public void Assembly_without_pdb_has_no_symbols_and_no_methods()
    {
        using var temp = new TempDirectory();
        var path = temp.Copy(Fixture.AssemblyPath);

        var catalog = SourceMethodCatalog.Read(path);

        Assert.Equal(SymbolSource.None, catalog.Symbols);
        Assert.False(catalog.HasSymbols);
        Assert.Empty(catalog.Methods);
        Assert.Equal(Fixture.Catalog.Mvid, catalog.Mvid);
        Assert.Equal(Fixture.AssemblyName, catalog.AssemblyName);
        Assert.False(catalog.TryResolve(Fixture.Token("Fixture.Calculator", "Add"), out _));
    }

    [Fact]
    public void Pdb_of_another_build_is_not_used()
    {
        using var temp = new TempDirectory();
        var path = temp.Copy(Fixture.AssemblyPath);
        temp.Copy(Path.Combine(AppContext.BaseDirectory, "Sealights.Coverage.Tests.pdb"), Fixture.AssemblyName + ".pdb");

        Assert.Equal(SymbolSource.None, SourceMethodCatalog.Read(path).Symbols);
    }

    [Fact]
    public void Windows_pdb_counts_as_no_pdb()
    {
        using var temp = new TempDirectory();
        var path = temp.Copy(Fixture.AssemblyPath);
        File.WriteAllText(temp.File(Fixture.AssemblyName + ".pdb"), "Microsoft C/C++ MSF 7.00\r\n\u001aDS\0\0\0");

        Assert.Equal(SymbolSource.None, SourceMethodCatalog.Read(path).Symbols);
    }

    [Fact]
    public void Garbage_file_raises_AssemblyReadException()
    {
        using var temp = new TempDirectory();
        var path = temp.File("garbage.dll");
        File.WriteAllBytes(path, Enumerable.Range(0, 4096).Select(i => (byte)(i * 31 % 251)).ToArray());

        var error = Assert.Throws<AssemblyReadException>(() => SourceMethodCatalog.Read(path));
        Assert.Equal(path, error.FilePath);
        // The CLI prints the message alone: it names the file and what is wrong with it.
        Assert.StartsWith(path + ": not a readable managed assembly (", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_assembly_raises_AssemblyReadException()
    {
        using var temp = new TempDirectory();
        var path = temp.File(Fixture.AssemblyName + ".dll");
        File.WriteAllBytes(path, File.ReadAllBytes(Fixture.AssemblyPath)[..1024]);

        Assert.Throws<AssemblyReadException>(() => SourceMethodCatalog.Read(path));
    }

    [Fact]
    public void Corrupt_pdb_raises_AssemblyReadException()
    {
        using var temp = new TempDirectory();
        var path = temp.Copy(Fixture.AssemblyPath);
        var pdb = File.ReadAllBytes(Fixture.PdbPath);
        Array.Fill(pdb, (byte)0xFF, 64, pdb.Length - 64);
        File.WriteAllBytes(temp.File(Fixture.AssemblyName + ".pdb"), pdb);

        Assert.Throws<AssemblyReadException>(() => SourceMethodCatalog.Read(path));
    }

    [Fact]
    public void Missing_file_raises_AssemblyReadException()
    {
        Assert.Throws<AssemblyReadException>(() => SourceMethodCatalog.Read("/nonexistent/App.dll"));
    }

    [Fact]
    public void Non_pe_file_such_as_a_native_executable_raises_AssemblyReadException()
    {
        Assert.Throws<AssemblyReadException>(() => SourceMethodCatalog.Read(Environment.ProcessPath!));
    }
}
