namespace Sealights.Images.Testing;

/// <summary>
/// A function image that trusts one more CA, added exactly as a user adds a private CA on AWS's
/// base image (Amazon Linux 2023; the stand-in mirrors its paths and update-ca-trust):
/// <c>COPY ca.crt /etc/pki/ca-trust/source/anchors/</c> + <c>RUN update-ca-trust</c>.
/// Never the product image: a derived image for one test run, removed when the process exits.
/// </summary>
public static class TrustedCaImage
{
    public static async Task<string> BuildAsync(string image, string caCertificateFile)
    {
        var context = Directory.CreateTempSubdirectory("sl-trusted-ca-").FullName;
        try
        {
            File.Copy(caCertificateFile, Path.Combine(context, "private-ca.crt"));
            await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), $"""
                FROM {image}
                COPY private-ca.crt /etc/pki/ca-trust/source/anchors/
                RUN update-ca-trust

                """);
            var tag = $"sl-it/trusted-ca:{Guid.NewGuid():N}"[..28];
            await DockerCli.BuildAsync(context, tag);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => DockerCli.RunAsync(["rmi", "--force", tag]).GetAwaiter().GetResult();
            return tag;
        }
        finally
        {
            Directory.Delete(context, recursive: true);
        }
    }
}
