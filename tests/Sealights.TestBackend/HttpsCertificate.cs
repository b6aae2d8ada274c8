using System.Security.Cryptography.X509Certificates;

/// <summary>
/// HTTPS for the stand-in backend: <c>--certificate FILE</c> (PEM, with <c>--certificate-key FILE</c>
/// unless the key is in the same file; or a .pfx/.p12 with <c>--certificate-password</c>) serves
/// every https:// address of <c>--urls</c> with that certificate. The slim builder leaves Kestrel's
/// HTTPS configuration out, so it is added here only when asked for.
/// </summary>
internal static class HttpsCertificate
{
    public static void Configure(WebApplicationBuilder builder, string[] args)
    {
        var index = Array.IndexOf(args, "--certificate");
        if (index < 0 || index + 1 >= args.Length)
        {
            return;
        }
        var path = args[index + 1];
        string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        var certificate = Path.GetExtension(path).ToLowerInvariant() is ".pfx" or ".p12"
            ? X509CertificateLoader.LoadPkcs12FromFile(path, Value("--certificate-password"))
            : X509Certificate2.CreateFromPemFile(path, Value("--certificate-key"));
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate));
    }
}
