namespace Sealights.Images.Testing;

/// <summary>
/// The arm64 stand-in's filesystem (images/lambda-dotnet-local, tag 10-arm64) unpacked on this
/// machine, to run an arm64 .NET process next to the tests: its /var/lang/bin/dotnet started
/// directly, through the qemu-aarch64 interpreter registered in binfmt_misc, with
/// QEMU_LD_PREFIX=the root so that the process loads the arm64 libraries (glibc, libstdc++) of the
/// image. Paths that do not exist under the root (the tests' own files and sockets) stay the host's.
/// </summary>
public static class Arm64Runtime
{
    /// <summary>The unpacked root, once per stand-in image id (kept under artifacts/ between runs).</summary>
    public static async Task<string> EnsureRootAsync()
    {
        await StandInImages.EnsureBaseImagesAsync();
        var image = StandInImages.Base("10-arm64");
        var id = (await DockerCli.InspectAsync(image, "{{.Id}}")).Replace("sha256:", "")[..16];
        var root = Path.Combine(RepositoryPaths.Artifacts, "arm64-root", id);
        return await BuildLock.RunAsync(async () =>
        {
            if (File.Exists(Path.Combine(root, "var", "lang", "bin", "dotnet")))
            {
                return root;
            }
            var partial = root + ".partial";
            if (Directory.Exists(partial))
            {
                Directory.Delete(partial, recursive: true);
            }
            Directory.CreateDirectory(partial);
            var name = $"sl-arm64-root-{Guid.NewGuid():N}"[..24];
            (await DockerCli.RunAsync(["create", "--platform", "linux/arm64", "--network", "host", "--name", name, image])).EnsureSuccess("docker create (arm64 stand-in)");
            try
            {
                // /dev entries cannot be made without privileges and are not needed.
                (await ProcessRunner.RunAsync(
                    "bash", ["-c", $"docker export {name} | tar -x -C '{partial}' --exclude='dev/*' --no-same-owner"], TimeSpan.FromMinutes(5)))
                    .EnsureSuccess("docker export | tar -x (arm64 stand-in)");
            }
            finally
            {
                await DockerCli.RemoveContainerAsync(name);
            }
            Directory.Move(partial, root);
            return root;
        });
    }

    /// <summary>The arm64 muxer in the unpacked root.</summary>
    public static string Dotnet(string root) => Path.Combine(root, "var", "lang", "bin", "dotnet");
}
