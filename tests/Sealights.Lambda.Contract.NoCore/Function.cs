namespace Contract.NoCore;

/// <summary>Handler: Sealights.Lambda.Contract.NoCore::Contract.NoCore.Function::Handle.</summary>
public sealed class Function
{
    public Stream Handle(Stream input) => input;
}
